"""The builder's schema-driven forms: every section of every template survives a round trip
through its form (what a browser would post back is the spec), money reads in yuan, and
parts are added, moved and removed in place."""

from zoneinfo import ZoneInfo

import pytest
from django.http import QueryDict

from programs import specforms
from programs.spec import validate_spec
from programs.templates_data import ARCHETYPES, blank_spec
from programs.tests.conftest import FormData

TZ = ZoneInfo("Asia/Shanghai")


def ctx():
    return specforms.Context(currency="CNY", tz=TZ, url="/app/programs/x/edit/s/")


def posted(html: str) -> FormData:
    parser = FormData()
    parser.feed(str(html))
    return parser


def query(pairs) -> QueryDict:
    q = QueryDict(mutable=True)
    for name, value in pairs:
        q.appendlist(name, value)
    return q


def round_trip(spec: dict, section: str) -> dict:
    form = posted(specforms.render_section(section, spec, ctx()))
    context = ctx()
    values = specforms.parse_section(section, query(form.data), context)
    assert context.errors == {}
    return values


@pytest.mark.parametrize("template", sorted(ARCHETYPES))
def test_every_section_of_every_template_survives_its_form(template):
    spec = ARCHETYPES[template](2026)
    rebuilt = dict(spec)
    for section, _title, keys in specforms.SECTIONS:
        values = round_trip(spec, section)
        expected = {k: spec[k] for k in keys if k in spec and spec[k] is not None}
        assert values == expected, section
        rebuilt = specforms.apply_section(rebuilt, section, values)
    assert validate_spec(rebuilt) == []


def test_every_input_has_a_label_and_money_reads_in_yuan():
    spec = ARCHETYPES["saas-b2b"](2026)
    form = posted(specforms.render_section("stages", spec, ctx()))
    fields = dict(form.data)
    assert fields["stages[0].rewards[0].amount"] == "50.00"
    assert fields["stages[1].condition.min_amount"] == "1680.00"
    assert fields["stages[1].rewards[1].options[1].estimated_value"] == "140.00"
    named_ids = [i for i in form.ids if i.startswith("f-")]
    assert named_ids and set(named_ids) <= set(form.label_for)


def test_typed_yuan_become_fen_and_bad_numbers_are_field_errors():
    spec = blank_spec()
    data = query([
        ("stages[0].key", "paid"), ("stages[0].status", "converted"), ("stages[0].success", "true"),
        ("stages[0].condition.event", "purchase"), ("stages[0].condition.min_amount", "99"),
        ("stages[0].rewards[0].key", "cash"), ("stages[0].rewards[0].side", "referrer"),
        ("stages[0].rewards[0].kind", "cash"), ("stages[0].rewards[0].amount", "50"),
        ("stages[0].rewards[1].key", "coupon"), ("stages[0].rewards[1].side", "referee"),
        ("stages[0].rewards[1].kind", "coupon"), ("stages[0].rewards[1].amount", "12.345"),
        ("stages[0].rewards[1].valid_days", "seven"),
    ])  # fmt: skip
    context = ctx()
    values = specforms.parse_section("stages", data, context)
    stage = values["stages"][0]
    assert stage["condition"]["min_amount"] == 9900
    assert stage["rewards"][0] == {
        "key": "cash",
        "side": "referrer",
        "kind": "cash",
        "amount": 5000,
    }
    assert context.errors == {
        "stages[0].rewards[1].amount": ["Enter at most 2 decimal places."],
        "stages[0].rewards[1].valid_days": ["Enter a number."],
    }
    html = str(
        specforms.render_section("stages", specforms.apply_section(spec, "stages", values), context)
    )
    assert 'value="12.345"' in html and 'data-error-for="stages[0].rewards[1].amount"' in html


def test_parts_are_added_moved_and_removed_in_place():
    spec = ARCHETYPES["green-home"](2026)
    form = posted(specforms.render_section("stages", spec, ctx()))
    data = query(form.data)
    first, second = spec["stages"][0]["key"], spec["stages"][1]["key"]
    values = specforms.parse_section("stages", data, ctx(), "down:stages[0]")
    assert [s["key"] for s in values["stages"]] == [second, first]
    values = specforms.parse_section("stages", data, ctx(), "remove:stages[0].rewards[1]")
    assert len(values["stages"][0]["rewards"]) == len(spec["stages"][0]["rewards"]) - 1
    values = specforms.parse_section("stages", data, ctx(), "add:stages[1].reverse_on")
    assert values["stages"][1]["reverse_on"][-1] == {}
    values = specforms.parse_section("stages", data, ctx(), "add:stages[0].hold")
    assert values["stages"][0]["hold"] == {}
    data["stages[0].rewards[0].when.__type"] = "all"
    values = specforms.parse_section("stages", data, ctx(), "add:stages[0].rewards[0].when.all")
    assert values["stages"][0]["rewards"][0]["when"] == {"all": [{}]}


def test_a_condition_is_built_from_its_type_and_fields():
    data = query([
        ("eligibility.__present", "1"), ("eligibility.referrer[0].key", "nps"),
        ("eligibility.referrer[0].when.__type", "any"),
        ("eligibility.referrer[0].when.any[0].__type", "field"),
        ("eligibility.referrer[0].when.any[0].field", "referrer.nps"),
        ("eligibility.referrer[0].when.any[0].op", "gte"),
        ("eligibility.referrer[0].when.any[0].value", "9"),
        ("eligibility.referrer[0].when.any[1].__type", "segment"),
        ("eligibility.referrer[0].when.any[1].segment", "paying"),
        ("eligibility.referrer[0].when.any[2].__type", "field"),
        ("eligibility.referrer[0].when.any[2].field", "region"),
        ("eligibility.referrer[0].when.any[2].op", "in"),
        ("eligibility.referrer[0].when.any[2].value", "south, east"),
    ])  # fmt: skip
    values = specforms.parse_section("eligibility", data, ctx())
    assert values["eligibility"]["referrer"][0]["when"] == {
        "any": [
            {"field": "referrer.nps", "op": "gte", "value": 9},
            {"segment": "paying"},
            {"field": "region", "op": "in", "value": ["south", "east"]},
        ]
    }


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_copy_section_hints_name_no_json_shape(language):
    """The spec's descriptions show `{"en": …, "zh-hans": …}`; the form has a field per
    language instead, so its hints leave the shape out and keep the rest."""
    from django.utils import translation

    spec = ARCHETYPES["green-home"](year=2026)
    with translation.override(language):
        html = str(specforms.render_section("copy", spec, ctx()))
    assert '{"en"' not in html and "{&quot;en&quot;" not in html
    expected = {
        "en": "a list per language, at most 20 each",
        "zh-hans": "按语言分别填写列表，每种语言最多 20 条",
    }
    assert expected[language] in html
