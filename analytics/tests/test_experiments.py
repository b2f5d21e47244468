"""The holdout split is stable; the z-test matches reference values; the winner is
promoted as a new program version through the programs service."""

from __future__ import annotations

import pytest

from analytics import services
from analytics.experiments import (
    experiment_results,
    in_holdout,
    spec_with_winner,
    two_proportion_z_test,
)
from programs.services import demo_programs_seed

from . import factories as f


def test_holdout_keeps_about_its_share_out_and_is_stable():
    held = sum(in_holdout("program:1", pid, 500) for pid in range(1, 20001))
    assert abs(held / 20000 - 0.05) < 0.01
    assert in_holdout("program:1", 42, 500) == in_holdout("program:1", 42, 500)
    assert not any(in_holdout("program:1", pid, 0) for pid in range(1, 100))


def test_z_test_matches_the_reference_for_200_of_1000_against_250_of_1000():
    # Reference (R: prop.test(c(250, 200), c(1000, 1000), correct = FALSE) gives
    # X-squared = 7.1685, p = 0.007419; z = √7.1685 = 2.6774). By hand: pooled p = 0.225,
    # SE = √(0.225 × 0.775 × 2/1000) = 0.018675; unpooled SE = √(0.16/1000 + 0.1875/1000)
    # = 0.018641, so the 95% interval is 0.05 ± 1.95996 × 0.018641 = [0.01346, 0.08654].
    result = two_proportion_z_test(200, 1000, 250, 1000)
    assert result.difference == pytest.approx(0.05)
    assert result.z == pytest.approx(2.6774, abs=1e-4)
    assert result.p_value == pytest.approx(0.007419, abs=1e-5)
    assert result.ci_low == pytest.approx(0.01346, abs=1e-5)
    assert result.ci_high == pytest.approx(0.08654, abs=1e-5)
    assert result.significant is True


def test_z_test_calls_a_small_difference_on_small_samples_not_significant():
    result = two_proportion_z_test(10, 100, 13, 100)
    assert result.significant is False
    assert result.ci_low < 0 < result.ci_high
    assert two_proportion_z_test(0, 0, 1, 10) is None


def test_the_winners_overrides_are_merged_by_key_and_the_experiment_removed():
    spec = {
        "slug": "p",
        "stages": [{"key": "paid", "rewards": [{"key": "cash", "amount": 5000}, {"key": "pts"}]}],
        "experiments": [
            {"key": "amt", "side": "referrer", "variants": [
                {"key": "a", "weight": 1},
                {"key": "b", "weight": 1, "overrides": {
                    "stages": [{"key": "paid", "rewards": [{"key": "cash", "amount": 8000}]}]}},
            ]},
        ],
    }  # fmt: skip
    out = spec_with_winner(spec, "amt", "b")
    assert out["stages"] == [
        {"key": "paid", "rewards": [{"key": "cash", "amount": 8000}, {"key": "pts"}]}
    ]
    assert "experiments" not in out
    assert spec["stages"][0]["rewards"][0]["amount"] == 5000  # the input is untouched


def test_promoting_the_winner_makes_a_new_program_version_without_the_experiment(tenant, owner):
    program = demo_programs_seed(tenant=tenant, slug="saas-b2b")
    assert [e["key"] for e in program.spec["experiments"]] == ["referee_offer_ab"]
    version = services.experiment_promote(
        program=program, experiment_key="referee_offer_ab", variant_key="one_month_free",
        actor=owner,
    )  # fmt: skip
    program.refresh_from_db()
    assert version.number == 2
    assert program.current_version_id == version.pk
    assert "experiments" not in program.spec


def test_results_per_variant_count_conversions_and_cost(tenant):
    spec = {**f.SPEC, "experiments": [{"key": "offer", "side": "referee", "variants": [
        {"key": "a", "weight": 1}, {"key": "b", "weight": 1}]}]}  # fmt: skip
    prog = f.program(tenant, "exp", spec=spec)
    referrer = f.person(tenant)
    for n in range(4):  # variant a: 4 referees, 1 converted with a 3000 reward
        ref = f.referral(prog, referrer, f.person(tenant), f.at("2026-03-02"))
        ref.variant = "offer:a"
        ref.save()
        if n == 0:
            f.stage(ref, "paid", "converted", f.at("2026-03-03"))
            f.reward(ref, kind="cash", amount_minor=3000, fulfilled_at=f.at("2026-03-10"))
    for n in range(4):  # variant b: 4 referees, 3 converted, 1000 each
        ref = f.referral(prog, referrer, f.person(tenant), f.at("2026-03-02"))
        ref.variant = "amount:x,offer:b"  # a second experiment beside it
        ref.save()
        if n < 3:
            f.stage(ref, "paid", "converted", f.at("2026-03-03"))
            f.reward(ref, kind="cash", amount_minor=1000, fulfilled_at=f.at("2026-03-10"))
    from datetime import date

    out = experiment_results(
        tenant=tenant, program=prog, experiment_key="offer",
        start=date(2026, 3, 1), end=date(2026, 3, 31),
    )  # fmt: skip
    a, b = out["variants"]
    assert (a["exposed"], a["converted"], a["conversion_rate"]) == (4, 1, 0.25)
    assert (b["exposed"], b["converted"], b["conversion_rate"]) == (4, 3, 0.75)
    assert (a["cost_per_conversion_minor"], b["cost_per_conversion_minor"]) == (3000, 1000)
    test = out["comparisons"][0]["test"]
    assert test.difference == pytest.approx(0.5)
    assert test.significant is False  # 8 referees cannot show it (p ≈ 0.157)
    assert test.p_value == pytest.approx(0.1573, abs=1e-3)
