"""A/B experiments in the engine: stable weighted assignment, the spec a variant makes (its
overrides merged by key), what the merged spec pays, and the stored form of assignments."""

from __future__ import annotations

import copy
import hashlib
from collections import Counter

from hypothesis import given
from hypothesis import strategies as st

from programs.engine import (
    assign_variant,
    evaluate_rewards,
    spec_for_variants,
    variants_assign,
    variants_decode,
    variants_encode,
)
from programs.spec import validate_spec
from programs.templates_data import blank_spec

from .factsbuilder import CAL, at, by_reason, ev, facts, later

B_OVERRIDES = {
    "stages": [
        {"key": "paid", "rewards": [{"key": "paid_referrer", "amount": 8000, "description": "¥80"}]}
    ]
}


def _spec() -> dict:
    spec = blank_spec(slug="friends", name="Bring a friend")
    spec["status"] = "active"
    spec["stages"][0]["hold"] = {"days": 7}
    spec["stages"][0]["rewards"] = [
        {"key": "paid_referrer", "side": "referrer", "kind": "cash", "amount": 5000,
         "description": "¥50"},
        {"key": "paid_referee", "side": "referee", "kind": "coupon", "amount": 2000,
         "description": "¥20 off"},
    ]  # fmt: skip
    spec["experiments"] = [
        {"key": "amount", "side": "referrer", "variants": [
            {"key": "a", "weight": 50, "label": "¥50"},
            {"key": "b", "weight": 50, "label": "¥80", "overrides": B_OVERRIDES},
        ]},
        {"key": "welcome", "side": "referee", "variants": [
            {"key": "plain", "weight": 1},
            {"key": "bigger", "weight": 1, "overrides": {"offer": {"headline": "¥30 off"},
             "stages": [{"key": "paid", "rewards": [{"key": "paid_referee", "amount": 3000}]}]}},
        ]},
    ]  # fmt: skip
    return spec


def test_the_spec_is_valid_with_every_variant():
    assert validate_spec(_spec()) == []


def test_a_variants_overrides_are_merged_item_by_item_and_nothing_else_changes():
    spec = _spec()
    before = copy.deepcopy(spec)
    out = spec_for_variants(spec, {"amount": "b"})
    expected = copy.deepcopy(before)
    expected["stages"][0]["rewards"][0] = {
        "key": "paid_referrer", "side": "referrer", "kind": "cash", "amount": 8000,
        "description": "¥80",
    }  # fmt: skip
    assert out == expected
    assert spec == before  # the input is untouched


def test_the_control_variant_and_unknown_assignments_leave_the_spec_as_it_is():
    spec = _spec()
    assert spec_for_variants(spec, {}) == spec
    assert spec_for_variants(spec, {"amount": "a"}) == spec
    assert spec_for_variants(spec, {"amount": "zzz", "ended_experiment": "b"}) == spec
    assert spec_for_variants(blank_spec(), {"amount": "b"}) == blank_spec()


def test_both_sides_variants_apply_together_and_a_new_keyed_item_is_appended():
    spec = _spec()
    spec["experiments"][0]["variants"][1]["overrides"] = {
        "stages": [{"key": "paid", "rewards": [
            {"key": "paid_referrer", "amount": 8000},
            {"key": "paid_points", "side": "referrer", "kind": "points", "points": 100,
             "description": "100 points"},
        ]}],
    }  # fmt: skip
    out = spec_for_variants(spec, {"amount": "b", "welcome": "bigger"})
    assert [(r["key"], r.get("amount"), r.get("points")) for r in out["stages"][0]["rewards"]] == [
        ("paid_referrer", 8000, None),
        ("paid_referee", 3000, None),
        ("paid_points", None, 100),
    ]
    assert out["offer"] == {"headline": "¥30 off"}


def test_the_merged_spec_pays_the_variants_amount_and_the_base_spec_the_base_amount():
    signup = at(2026, 5, 4)
    f = facts(ev("signup", signup), ev("purchase", later(signup, hours=2), amount=12900))
    now = later(signup, days=1)

    def paid(spec):
        return {
            side: (d.amount_minor, d.description, d.status)
            for (side, _), d in by_reason(evaluate_rewards(spec, f, now, CAL)).items()
        }

    assert paid(spec_for_variants(_spec(), {"amount": "a", "welcome": "plain"})) == {
        "referrer": (5000, "¥50", "pending"),
        "referee": (2000, "¥20 off", "pending"),
    }
    assert paid(spec_for_variants(_spec(), {"amount": "b", "welcome": "plain"})) == {
        "referrer": (8000, "¥80", "pending"),
        "referee": (2000, "¥20 off", "pending"),
    }


@given(participant_id=st.integers(min_value=1, max_value=10**12))
def test_assignment_is_the_same_every_time_for_the_same_participant(participant_id):
    first = assign_variant(_spec(), "amount", participant_id)
    assert first in ("a", "b")
    assert all(assign_variant(_spec(), "amount", participant_id) == first for _ in range(3))


def test_assignment_is_balanced_by_weight_and_experiments_split_people_independently():
    spec = _spec()
    spec["experiments"][0]["variants"][0]["weight"] = 80
    spec["experiments"][0]["variants"][1]["weight"] = 20
    counts = Counter(assign_variant(spec, "amount", pid) for pid in range(1, 20001))
    # 20,000 draws at 20%: ±2% is over seven standard deviations (σ ≈ 0.28%).
    assert abs(counts["b"] / 20000 - 0.2) < 0.02
    pairs = Counter(
        (assign_variant(_spec(), "amount", pid), assign_variant(_spec(), "welcome", pid))
        for pid in range(1, 8001)
    )
    for pair in [("a", "plain"), ("a", "bigger"), ("b", "plain"), ("b", "bigger")]:
        assert abs(pairs[pair] / 8000 - 0.25) < 0.02


def test_assignment_is_48_bits_of_sha256_of_experiment_and_participant_by_weight():
    # Pinned so assignments made today never move: tracking stores them, analytics reads them.
    def by_hand(pid):
        point = int(hashlib.sha256(f"amount:{pid}".encode()).hexdigest()[:12], 16) % 100
        return "a" if point < 50 else "b"

    assigned = [assign_variant(_spec(), "amount", pid) for pid in range(1, 201)]
    assert assigned == [by_hand(pid) for pid in range(1, 201)]
    assert set(assigned) == {"a", "b"}
    assert assign_variant(_spec(), "no_such_experiment", 1) is None
    zero = _spec()
    for variant in zero["experiments"][0]["variants"]:
        variant["weight"] = 0
    assert assign_variant(zero, "amount", 1) is None


def test_variants_assign_takes_only_the_sides_experiments_and_keeps_what_was_assigned():
    spec = _spec()
    pid = next(p for p in range(1, 100) if assign_variant(spec, "amount", p) == "b")
    assert variants_assign(spec, "referrer", pid) == {"amount": "b"}
    assert variants_assign(spec, "referee", pid) == {
        "welcome": assign_variant(spec, "welcome", pid)
    }
    # Assigned before (say under other weights): kept while the experiment has the variant.
    assert variants_assign(spec, "referrer", pid, {"amount": "a"}) == {"amount": "a"}
    # A variant the experiment no longer has is assigned afresh.
    assert variants_assign(spec, "referrer", pid, {"amount": "gone"}) == {"amount": "b"}
    assert variants_assign(blank_spec(), "referrer", pid) == {}


def test_assignments_are_stored_as_sorted_pairs_and_read_back():
    stored = variants_encode({"welcome": "bigger", "amount": "b"})
    assert stored == "amount:b,welcome:bigger"
    assert variants_decode(stored) == {"amount": "b", "welcome": "bigger"}
    assert variants_encode({}) == ""
    assert variants_decode("") == {}
    assert variants_decode("amount:b,junk,:x,y:") == {"amount": "b"}


def test_a_variant_that_breaks_the_spec_or_changes_the_program_is_refused():
    spec = _spec()
    spec["experiments"][0]["variants"][1]["overrides"] = {
        "stages": [{"key": "paid", "rewards": [{"key": "paid_referrer", "amount": "lots"}]}]
    }
    assert [(p.path, p.message) for p in validate_spec(spec)] == [
        (
            "experiments[0].variants[1].overrides",
            "With this variant, stages[0].rewards[0].amount: Expected a whole number.",
        )
    ]
    spec["experiments"][0]["variants"][1]["overrides"] = {"slug": "other", "currency": "USD"}
    assert [(p.path, p.message) for p in validate_spec(spec)] == [
        ("experiments[0].variants[1].overrides.currency", "A variant cannot change this."),
        ("experiments[0].variants[1].overrides.slug", "A variant cannot change this."),
    ]


def test_experiment_and_variant_keys_must_be_unique():
    spec = _spec()
    spec["experiments"][1]["key"] = "amount"
    spec["experiments"][1]["side"] = "referrer"
    spec["experiments"][0]["variants"][1]["key"] = "a"
    assert {(p.path, p.message) for p in validate_spec(spec)} == {
        ("experiments[0].variants", "Variant keys must be unique."),
        ("experiments[1].key", "Experiment keys must be unique."),
    }
