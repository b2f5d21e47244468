import json
from pathlib import Path

from programs.spec import SCHEMA, validate_spec
from programs.spec.diff import spec_diff
from programs.summary import summarize
from programs.templates_data import ARCHETYPES, blank_spec


def test_the_published_schema_file_is_the_schema_the_code_validates_with():
    path = Path(__file__).resolve().parents[1] / "spec" / "program-spec.schema.json"
    assert json.loads(path.read_text()) == json.loads(json.dumps(SCHEMA))


def test_every_archetype_and_the_blank_program_are_valid():
    for build in ARCHETYPES.values():
        assert validate_spec(build(2026)) == []
        assert validate_spec(build(2027)) == []
    assert validate_spec(blank_spec()) == []


def test_a_non_object_spec_is_one_problem():
    assert [(p.path, p.message) for p in validate_spec([1])] == [
        ("non_field_errors", "A program spec must be a JSON object.")
    ]


def test_two_success_stages_and_bad_references_are_each_reported():
    spec = ARCHETYPES["saas-b2b"](2026)
    spec["stages"][0]["success"] = True
    spec["stages"][2]["condition"]["after_stage"] = "nope"
    spec["tiers"][0]["counts"] = "stage:nope"
    spec["boosts"][0].update(
        starts_at="2026-03-02T00:00:00+08:00", ends_at="2026-03-02T00:00:00+08:00"
    )
    del spec["boosts"][0]["every_year"]
    assert {p.path for p in validate_spec(spec)} == {
        "stages",
        "stages[2].condition.after_stage",
        "tiers[0].counts",
        "boosts[0].ends_at",
    }


def test_the_diff_names_each_changed_added_and_removed_path():
    old = {"a": 1, "b": [1, 2], "c": {"d": 1}}
    new = {"a": 2, "b": [1], "c": {"d": 1, "e": 3}}
    assert [(c.path, c.kind) for c in spec_diff(old, new)] == [
        ("a", "changed"),
        ("b[1]", "removed"),
        ("c.e", "added"),
    ]


def test_the_summary_says_who_earns_what_and_when():
    lines = summarize(ARCHETYPES["saas-b2b"](2026))
    assert (
        "Your customer earns ¥50.00 cash (“Qualified lead”) when the friend becomes a qualified"
        " lead within 30 days of signing up." in lines
    )
    assert "At most 10 rewarded referrals per quarter; beyond that, honor points only." in lines
    assert "Season rank 1 wins ¥500 cash or Product voucher (default: cash)." not in lines
    assert (
        "Season rank 1 wins ¥500.00 cash (“Cash”) or ¥500.00 coupon (“Product voucher”) (default: Cash)."
        in lines
    )
    assert not any("held out" in line for line in lines)
    spec = {**ARCHETYPES["saas-b2b"](2026), "holdout": {"percent": 12.5}}
    assert summarize(spec)[-1] == (
        "12.5% of participants are held out to measure the program: they get no link, offer or"
        " reward."
    )


def test_an_attribution_priority_group_is_two_or_more_known_sources():
    spec = ARCHETYPES["green-home"](2026)
    assert spec["attribution"]["priority"] == ["link", ["qr", "code"], "claim", "identity"]
    spec["attribution"]["priority"] = ["link", ["qr", "poster"], ["code"], "claim"]
    assert [p.path for p in validate_spec(spec)] == [
        "attribution.priority[1]",
        "attribution.priority[2]",
    ]
