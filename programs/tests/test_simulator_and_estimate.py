"""The simulator's default example earns each template's headline rewards, and the cost
estimator prices the same friend exactly as the simulator does."""

from datetime import datetime

import pytest

from programs.engine.estimate import estimate_cost, expected_value
from programs.examples import example_inputs
from programs.simulator import parse_script, simulate
from programs.templates_data import ARCHETYPES
from programs.tests.factsbuilder import CAL

START = datetime.fromisoformat("2026-01-05T10:00:00+08:00")  # outside every boost window


def _run(spec):
    script, attributes = example_inputs(spec)
    lines, errors = parse_script(script, spec["currency"])
    assert errors == []
    return simulate(spec, lines, start=START, cal=CAL, referrer_attributes=attributes)


def _earned(result) -> dict:
    return {
        (r.decision.side, r.decision.reason): (r.decision.amount_minor, r.decision.points)
        for r in result.rows
        if r.decision.status == "pending"
    }


def test_each_templates_default_example_earns_its_headline_rewards():
    saas = _earned(_run(ARCHETYPES["saas-b2b"](2026)))
    assert saas[("referrer", "stage:mql_cash")] == (5000, None)
    assert saas[("referrer", "stage:paid_cash")] == (15000, None)
    assert saas[("referrer", "stage:retention_reward")] == (10000, None)
    assert saas[("referrer", "stage:cs_voucher")] == (20000, None)
    assert ("referee", "stage:referee_offer") in saas
    green = _earned(_run(ARCHETYPES["green-home"](2026)))
    assert green[("referee", "stage:referee_coupon")] == (2000, None)
    assert green[("referrer", "stage:referrer_choice")] == (2500, None)
    assert green[("referrer", "stage:success_points")] == (None, 300)
    assert green[("referrer", "stage:lottery_ticket")] == (None, 1)
    study = _earned(_run(ARCHETYPES["study-together"](2026)))
    assert study[("referrer", "stage:trial_fund")] == (10000, None)
    assert study[("referrer", "stage:success_fund")] == (30000, None)
    assert study[("referee", "stage:referee_discount")] == (30000, None)
    assert study[("referrer", "charity:charity_match")] == (5000, None)


@pytest.mark.parametrize("template", sorted(ARCHETYPES))
def test_the_estimate_of_one_friend_equals_the_simulators_expected_cost(template):
    spec = ARCHETYPES[template](2026)
    totals = _run(spec).totals
    estimate = estimate_cost(
        spec, monthly_referrals=1, stage_rates={s["key"]: 100 for s in spec["stages"]}
    )
    assert totals["referrer"]["expected_cost_minor"] == estimate["referrer"]
    assert totals["referee"]["expected_cost_minor"] == estimate["referee"]


def test_a_percent_coupon_is_valued_at_its_expected_redemption_not_its_cap():
    spec = ARCHETYPES["saas-b2b"](2026)  # average order ¥2,000, all coupons redeemed
    coupon = {"kind": "coupon", "percent_off": 10, "max_amount": 50000}
    assert expected_value(coupon, spec) == 20000  # 10 % of ¥2,000, under the ¥500 cap
    green = ARCHETYPES["green-home"](2026)  # average order ¥120, 60 % redeemed
    assert expected_value({"kind": "coupon", "amount": 2000, "min_spend": 9900}, green) == 1200
    assert expected_value({"kind": "coupon", "amount": 3000, "min_spend": 16900}, green) == 0


def test_a_later_stage_is_never_counted_more_often_than_the_one_before():
    spec = ARCHETYPES["saas-b2b"](2026)
    rates = {"qualified": 40, "paid": 60, "retained": 80, "cs_success": 10}
    stages = estimate_cost(spec, monthly_referrals=100, stage_rates=rates)["stages"]
    assert [s["reached"] for s in stages] == [40, 40, 40, 10]
