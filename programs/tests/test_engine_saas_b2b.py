"""SCENARIOS.md A (`saas-b2b`) run through the rule engine."""

from datetime import timedelta

from programs.engine import (
    CountedFact,
    ParticipantFact,
    Standing,
    assign_variant,
    eligibility,
    evaluate_rewards,
    evaluate_season_close,
    evaluate_stages,
    evaluate_tiers,
    expected_dates,
)
from programs.templates_data import saas_b2b_spec

from .factsbuilder import CAL, at, by_reason, ev, facts

SPEC = saas_b2b_spec(2026)
ADMIN = ParticipantFact(100, {"in_arrears": False}, ("paying",))


def _referral(signup_at, *events, referrer=ADMIN, **kw):
    return facts(ev("signup", signup_at), *events, referrer=referrer, **kw)


def _annual(when, amount=200000, **props):
    return ev("purchase", when, amount, order_id="inv1", billing_period="annual", **props)


def test_a_qualified_lead_pays_the_referrer_50_and_is_expected_in_two_business_days():
    f = _referral(at(2026, 1, 9), ev("qualified_lead", at(2026, 1, 12)))  # a Friday sign-up
    assert expected_dates(SPEC, f, CAL) == {"qualified": at(2026, 1, 13)}
    [mql] = evaluate_rewards(SPEC, f, at(2026, 1, 12, 12), CAL)
    assert (mql.side, mql.reason, mql.kind, mql.amount_minor, mql.status) == (
        "referrer",
        "stage:mql_cash",
        "cash",
        5000,
        "pending",
    )
    assert mql.cap_slot == ("quarterly_base", "2026-Q1")


def test_the_first_annual_payment_pays_150_and_gives_the_referee_the_offer_chosen_at_checkout():
    f = _referral(at(2026, 1, 9), ev("qualified_lead", at(2026, 1, 12)), _annual(at(2026, 2, 2)))
    decisions = by_reason(evaluate_rewards(SPEC, f, at(2026, 2, 3), CAL))
    assert decisions["referrer", "stage:paid_cash"].amount_minor == 15000
    offer = decisions["referee", "stage:referee_offer"]
    # No offer reported at checkout: the default, first year 10% off, capped at ¥500.
    assert (offer.kind, offer.details["percent_off"], offer.details["max_amount"]) == (
        "coupon",
        10,
        50000,
    )
    # No amount, but its cap is money: it is in the program's currency, for every reader.
    assert (offer.amount_minor, offer.currency) == (None, "CNY")
    assert [o["chosen"] for o in offer.options] == [True, False]
    assert [o["currency"] for o in offer.options] == ["CNY", ""]  # a month free holds none
    f = _referral(at(2026, 1, 9), _annual(at(2026, 2, 2), offer_choice="one_month_free"))
    offer = by_reason(evaluate_rewards(SPEC, f, at(2026, 2, 3), CAL))[
        "referee", "stage:referee_offer"
    ]
    assert (offer.kind, offer.details["duration_days"], offer.hold_reason) == ("credit", 30, "")


def test_a_monthly_or_small_payment_or_one_after_60_days_is_not_the_success():
    for purchase in (
        ev("purchase", at(2026, 2, 2), 200000, billing_period="monthly"),
        _annual(at(2026, 2, 2), amount=167999),
        _annual(at(2026, 3, 12)),  # 62 days after sign-up
    ):
        f = _referral(at(2026, 1, 9), purchase)
        assert [s.stage_key for s in evaluate_stages(SPEC, f, at(2026, 6, 1), CAL)] == []


def test_retention_pays_100_cash_or_a_voucher_ninety_days_after_payment():
    paid = at(2026, 2, 2)
    f = _referral(
        at(2026, 1, 9), _annual(paid), ev("activity", at(2026, 4, 1), monthly_active_rate=0.35)
    )
    stages = {s.stage_key: s for s in evaluate_stages(SPEC, f, at(2026, 5, 10), CAL)}
    assert stages["retained"].status == "retained"
    assert stages["retained"].due_at == paid + timedelta(days=90)
    retention = by_reason(evaluate_rewards(SPEC, f, at(2026, 4, 2), CAL))[
        "referrer", "stage:retention_reward"
    ]
    assert (retention.kind, retention.amount_minor, retention.hold_reason) == (
        "cash",
        10000,
        "choice",
    )
    assert [(o["key"], o["kind"], o["amount_minor"]) for o in retention.options] == [
        ("cash", "cash", 10000),
        ("voucher", "coupon", 10000),
    ]
    assert retention.choice_deadline == paid + timedelta(days=97)


def test_cancelling_the_subscription_inside_the_ninety_days_reverses_retention():
    f = _referral(
        at(2026, 1, 9),
        _annual(at(2026, 2, 2)),
        ev("activity", at(2026, 3, 1), modules_enabled=2),
        ev("activity", at(2026, 4, 20), kind="subscription_cancelled"),
    )
    stages = {s.stage_key: s for s in evaluate_stages(SPEC, f, at(2026, 6, 1), CAL)}
    assert stages["retained"].reversed
    assert "stage:retention_reward" not in {
        d.reason for d in evaluate_rewards(SPEC, f, at(2026, 6, 1), CAL)
    }


def test_double_mql_week_raises_the_qualified_lead_reward_to_80_by_the_lead_time():
    inside = _referral(at(2026, 2, 20), ev("qualified_lead", at(2026, 3, 5)))
    [mql] = evaluate_rewards(SPEC, inside, at(2026, 3, 6), CAL)
    assert (mql.amount_minor, mql.boost) == (8000, "double_mql_week")
    outside = _referral(at(2026, 2, 20), ev("qualified_lead", at(2026, 3, 9, 0)))
    [mql] = evaluate_rewards(SPEC, outside, at(2026, 3, 10), CAL)
    assert (mql.amount_minor, mql.boost) == (5000, "")


def test_april_and_september_give_the_referee_an_extra_free_month():
    f = _referral(at(2026, 3, 20), _annual(at(2026, 4, 10), offer_choice="one_month_free"))
    offer = by_reason(evaluate_rewards(SPEC, f, at(2026, 4, 11), CAL))[
        "referee", "stage:referee_offer"
    ]
    assert (offer.details["duration_days"], offer.boost) == (60, "referee_extra_month_04")


def test_the_eleventh_referral_in_a_quarter_gets_honor_points_only():
    f = _referral(
        at(2026, 1, 9), ev("qualified_lead", at(2026, 1, 12)), _annual(at(2026, 2, 2)),
        slots_used={("quarterly_base", "2026-Q1"): 10},
    )  # fmt: skip
    decisions = by_reason(evaluate_rewards(SPEC, f, at(2026, 2, 3), CAL))
    assert {
        (decisions[k].status, decisions[k].blocked_reason)
        for k in [("referrer", "stage:mql_cash"), ("referrer", "stage:paid_cash")]
    } == {("capped", "cap:quarterly_base")}
    honor = decisions["referrer", "honor:honor_points"]
    assert (honor.kind, honor.points, honor.status) == ("points", 100, "pending")
    assert decisions["referee", "stage:referee_offer"].status == "pending"


def test_a_referral_that_holds_its_slot_keeps_it_for_later_stages():
    f = _referral(
        at(2026, 1, 9), ev("qualified_lead", at(2026, 1, 12)), _annual(at(2026, 2, 2)),
        slots_used={("quarterly_base", "2026-Q1"): 10}, cap_state={"quarterly_base": "held"},
    )  # fmt: skip
    decisions = by_reason(evaluate_rewards(SPEC, f, at(2026, 2, 3), CAL))
    assert decisions["referrer", "stage:paid_cash"].status == "pending"
    assert ("referrer", "honor:honor_points") not in decisions


def test_customer_success_co_incentive_needs_a_promoter_and_a_big_referee():
    events = (
        ev("qualified_lead", at(2026, 1, 12), expected_users=12),
        _annual(at(2026, 2, 2)),
        ev("activity", at(2026, 3, 20), modules_enabled=2, monthly_active_rate=0.4),
    )
    promoter = ParticipantFact(100, {"nps": 9}, ("paying",))
    decisions = by_reason(
        evaluate_rewards(
            SPEC, _referral(at(2026, 1, 9), *events, referrer=promoter), at(2026, 3, 21), CAL
        )
    )
    assert {k for k in decisions if "cs_" in k[1]} == {
        ("referee", "stage:cs_success_pack"),
        ("referee", "stage:cs_trial_extension"),
        ("referrer", "stage:cs_club"),
        ("referrer", "stage:cs_voucher"),
    }
    assert decisions["referrer", "stage:cs_voucher"].amount_minor == 20000
    assert decisions["referee", "stage:cs_trial_extension"].details["duration_days"] == 30
    plain = by_reason(
        evaluate_rewards(SPEC, _referral(at(2026, 1, 9), *events), at(2026, 3, 21), CAL)
    )
    assert not [k for k in plain if "cs_" in k[1]]


def test_referrer_eligibility_accepts_any_of_the_three_profiles():
    active = ParticipantFact(1, {"active_users_30d": 6, "weekly_active_rate": 0.5})
    trial = ParticipantFact(2, {"trial_days": 7, "members": 3, "modules_enabled": 1})
    arrears = ParticipantFact(3, {"in_arrears": True}, ("paying",))
    assert eligibility(SPEC, active, "referrer") == eligibility(SPEC, trial, "referrer") == []
    assert eligibility(SPEC, arrears, "referrer") == ["good_standing_or_active_or_trial"]


def _leads(*days):
    return [
        CountedFact(
            referral_id=i, stage_key="qualified", occurred_at=at(2026, 1, d), due_at=at(2026, 1, d)
        )
        for i, d in enumerate(days, start=1)
    ]


def test_season_tiers_count_qualified_leads_and_are_reached_once():
    decisions = evaluate_tiers(SPEC, ADMIN, _leads(*range(1, 10)), at(2026, 3, 31), CAL)
    assert [(d.reason, d.scope, d.due_at) for d in decisions] == [
        ("tier:bronze_badge", "period:2026-Q1", at(2026, 1, 3)),
        ("tier:silver_reward", "period:2026-Q1", at(2026, 1, 5)),
        ("tier:gold_reward", "period:2026-Q1", at(2026, 1, 8)),
    ]
    silver = decisions[1]
    assert [o["key"] for o in silver.options] == ["pro_month", "extra_seats"]
    assert evaluate_tiers(SPEC, ADMIN, _leads(1, 2), at(2026, 3, 31), CAL) == []


def test_season_prizes_go_to_the_top_three_with_at_least_two_paid_and_ties_to_the_earlier():
    standings = [
        Standing(1, count=9, successes=3, reached_at=at(2026, 3, 1)),
        Standing(2, count=7, successes=2, reached_at=at(2026, 3, 5)),
        Standing(3, count=7, successes=4, reached_at=at(2026, 3, 2)),
        Standing(4, count=12, successes=1, reached_at=at(2026, 2, 1)),  # not qualified
        Standing(5, count=3, successes=2, reached_at=at(2026, 1, 1)),
    ]
    decisions = evaluate_season_close(SPEC, standings, "2026-Q1", closed_at=at(2026, 4, 1))
    assert [(d.beneficiary_id, d.reason, d.amount_minor, d.scope) for d in decisions] == [
        (1, "season:1", 50000, "period:2026-Q1"),
        (3, "season:2", 30000, "period:2026-Q1"),
        (2, "season:3", 20000, "period:2026-Q1"),
    ]
    assert [o["key"] for o in decisions[0].options] == ["cash", "voucher"]


def test_the_offer_experiment_assigns_each_participant_stably_to_one_variant():
    variants = [assign_variant(SPEC, "referee_offer_ab", pid) for pid in range(400)]
    assert variants == [assign_variant(SPEC, "referee_offer_ab", pid) for pid in range(400)]
    assert 150 < variants.count("ten_percent_off") < 250
