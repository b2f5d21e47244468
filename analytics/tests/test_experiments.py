"""The z-test and Welch's interval match hand-computed values; the winner is promoted as a
new program version through the programs service."""

from __future__ import annotations

import pytest

from analytics import services
from analytics.experiments import (
    experiment_results,
    mean_difference,
    spec_with_winner,
    two_proportion_z_test,
)
from programs.services import demo_programs_seed

from . import factories as f


def test_welchs_interval_matches_a_hand_computed_difference_of_unequal_groups():
    # Treated 30 × [10, 20, 30]: mean 20, Σ(x − 20)² = 30 × 200 = 6000, s² = 6000 / 89 =
    # 67.4157. Held out 30 × [5, 15]: mean 10, Σ(x − 10)² = 30 × 50 = 1500, s² = 1500 / 59 =
    # 25.4237. se = √(67.4157 / 90 + 25.4237 / 60) = √(0.749064
    # + 0.423729) = √1.172793 = 1.082956; 10 ± 1.959964 × 1.082956 = [7.8775, 12.1225].
    out = mean_difference([10, 20, 30] * 30, [5, 15] * 30)
    assert (out.treated_mean, out.held_out_mean, out.difference) == (20, 10, 10)
    assert out.ci_low == pytest.approx(7.8775, abs=1e-4)
    assert out.ci_high == pytest.approx(12.1225, abs=1e-4)
    assert out.significant and not out.too_small


def test_an_interval_that_crosses_zero_tells_nothing_however_large_the_groups():
    # [0, 2] × 50 against [0, 1.8] × 50: means 1.0 and 0.9, s² = 100/99 and 81/99, se = √((1.010101 + 0.818182) / 100) = 0.135214;
    # 0.1 ± 1.959964 × 0.135214 = [−0.16502, 0.36502].
    out = mean_difference([0, 2] * 50, [0, 1.8] * 50)
    assert out.ci_low == pytest.approx(-0.16502, abs=1e-5)
    assert out.ci_high == pytest.approx(0.36502, abs=1e-5)
    assert not out.too_small and not out.significant


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


def test_an_unused_percent_coupon_costs_its_expected_value_from_the_specs_estimates(tenant):
    # 10 % off up to ¥500 on an average order of ¥2,000 is ¥200, used 60 % of the time:
    # ¥120 expected (SEMANTICS §7; the cost estimate's `expected_value`), not the ¥500 cap.
    spec = {**f.SPEC, "estimates": {"average_order": 200000, "coupon_redemption_percent": 60},
            "experiments": [{"key": "offer", "side": "referee", "variants": [
                {"key": "a", "weight": 1}, {"key": "b", "weight": 1}]}]}  # fmt: skip
    prog = f.program(tenant, "exp", spec=spec)
    referrer = f.person(tenant)
    for variant, details in (
        ("a", {"percent_off": 10, "max_amount": 50000}),  # unused: expected value
        ("b", {"percent_off": 10, "max_amount": 50000, "computed_amount": 8000}),  # used: ¥80
    ):
        ref = f.referral(prog, referrer, f.person(tenant), f.at("2026-03-02"))
        ref.variant = f"offer:{variant}"
        ref.save()
        f.stage(ref, "paid", "converted", f.at("2026-03-03"))
        f.reward(ref, kind="coupon", side="referee", details=details,
                 fulfilled_at=f.at("2026-03-10"))  # fmt: skip
    from datetime import date

    out = experiment_results(
        tenant=tenant, program=prog, experiment_key="offer",
        start=date(2026, 3, 1), end=date(2026, 3, 31),
    )  # fmt: skip
    assert [v["cost_minor"] for v in out["variants"]] == [12000, 8000]
