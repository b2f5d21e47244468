"""SCENARIOS.md B (`green-home`) run through the rule engine."""

from datetime import timedelta

import pytest

from programs.engine import (
    CountedFact,
    ParticipantFact,
    PointsLot,
    draw_lottery,
    eligibility,
    evaluate_rewards,
    evaluate_stages,
    evaluate_tiers,
    lottery_decisions,
    points_expiry,
    seed_commitment,
)
from programs.templates_data import green_home_spec

from .factsbuilder import CAL, at, by_reason, ev, facts, later

SPEC = green_home_spec(2026)
MEMBER = ParticipantFact(100, {"orders_count": 4, "phone_verified": True})


def _success(when, amount=12000, referral_id=1, referrer=MEMBER, extra_events=(), **kw):
    signup = ev("signup", when - timedelta(days=1))
    purchase = ev("purchase", when, amount, order_id=f"o{referral_id}")
    return facts(
        signup, purchase, *extra_events, referral_id=referral_id, referrer=referrer, **kw
    ), purchase


def test_a_first_order_kept_seven_days_pays_both_sides_exactly_as_the_plan_says():
    f, purchase = _success(at(2026, 1, 12))
    decisions = by_reason(evaluate_rewards(SPEC, f, at(2026, 1, 20), CAL))
    assert set(decisions) == {
        ("referee", "stage:referee_coupon"),
        ("referee", "stage:referee_free_shipping"),
        ("referrer", "stage:referrer_choice"),
        ("referrer", "stage:lottery_ticket"),
        ("referrer", "stage:success_points"),
    }
    coupon = decisions["referee", "stage:referee_coupon"]
    assert (coupon.kind, coupon.amount_minor, coupon.currency) == ("coupon", 2000, "CNY")
    assert coupon.details == {"min_spend": 9900, "valid_days": 7}
    assert coupon.due_at == at(2026, 1, 11)  # at sign-up, for the first order
    assert decisions["referee", "stage:referee_free_shipping"].details == {"valid_days": 7}
    choice = decisions["referrer", "stage:referrer_choice"]
    assert (
        choice.kind,
        choice.amount_minor,
        choice.details["min_spend"],
        choice.details["valid_days"],
    ) == (
        "coupon",
        2500,
        12900,
        14,
    )
    assert [
        (o["key"], o["kind"], o["amount_minor"], o["points"], o["chosen"]) for o in choice.options
    ] == [
        ("coupon_25", "coupon", 2500, None, False),
        ("points_250", "points", None, 250, False),
    ]
    assert choice.hold_reason == "choice"
    assert choice.due_at == purchase.occurred_at + timedelta(hours=168)
    assert choice.choice_deadline == choice.due_at + timedelta(days=7)
    assert decisions["referrer", "stage:lottery_ticket"].points == 1
    assert decisions["referrer", "stage:success_points"].points == 300
    assert all(d.status == "pending" and d.explanation for d in decisions.values())
    # The explanation gives the due time in the tenant's time, as every page shows a date.
    local_due = choice.due_at.astimezone(CAL.tz).strftime("%Y-%m-%d %H:%M")
    assert f"due {local_due}" in choice.explanation
    assert "+00:00" not in choice.explanation


def test_the_referrers_choice_of_points_changes_the_item_once_chosen():
    f, _ = _success(at(2026, 1, 12), chosen_options={"referrer_choice": "points_250"})
    choice = by_reason(evaluate_rewards(SPEC, f, at(2026, 1, 20), CAL))[
        "referrer", "stage:referrer_choice"
    ]
    assert (choice.kind, choice.points, choice.amount_minor, choice.hold_reason) == (
        "points",
        250,
        None,
        "",
    )
    assert [o["chosen"] for o in choice.options] == [False, True]


def test_an_order_under_99_is_not_a_success():
    f, _ = _success(at(2026, 1, 12), amount=9800)
    assert [s.stage_key for s in evaluate_stages(SPEC, f, at(2026, 2, 1), CAL)] == ["welcome"]
    assert {d.side for d in evaluate_rewards(SPEC, f, at(2026, 2, 1), CAL)} == {"referee"}


def test_a_refund_inside_the_window_cancels_the_success_even_when_it_arrives_late():
    refund = ev("refund", at(2026, 1, 18), 12000, order_id="o1")
    f, _ = _success(at(2026, 1, 12), extra_events=(refund,))
    stages = {s.stage_key: s for s in evaluate_stages(SPEC, f, at(2026, 3, 1), CAL)}
    assert (
        stages["first_order"].reversed and stages["first_order"].reversed_at == refund.occurred_at
    )
    assert {d.side for d in evaluate_rewards(SPEC, f, at(2026, 3, 1), CAL)} == {"referee"}


def test_a_refund_after_the_window_leaves_the_success_alone():
    f, _ = _success(
        at(2026, 1, 12), extra_events=(ev("refund", at(2026, 1, 20), 12000, order_id="o1"),)
    )
    assert not evaluate_stages(SPEC, f, at(2026, 3, 1), CAL)[1].reversed


def test_a_partial_refund_reverses_only_below_the_threshold():
    keep = ev("refund", at(2026, 1, 14), 2000, order_id="o1")  # ¥100 left ≥ ¥99
    f, _ = _success(at(2026, 1, 12), extra_events=(keep,))
    assert not evaluate_stages(SPEC, f, at(2026, 3, 1), CAL)[1].reversed
    drop = ev("refund", at(2026, 1, 14), 2200, order_id="o1")  # ¥98 left
    f, _ = _success(at(2026, 1, 12), extra_events=(drop,))
    assert evaluate_stages(SPEC, f, at(2026, 3, 1), CAL)[1].reversed


def test_the_eleventh_success_in_a_month_gets_nothing():
    f, _ = _success(at(2026, 1, 12), slots_used={("monthly_successes", "2026-01"): 10})
    decisions = evaluate_rewards(SPEC, f, at(2026, 1, 20), CAL)
    referrer = [d for d in decisions if d.side == "referrer"]
    assert sorted(d.reason for d in referrer) == [
        "stage:lottery_ticket",
        "stage:referrer_choice",
        "stage:success_points",
    ]
    assert {(d.status, d.blocked_reason) for d in referrer} == {("capped", "cap:monthly_successes")}
    assert not any(d.reason.startswith("honor:") for d in decisions)
    assert {d.status for d in decisions if d.side == "referee"} == {"pending"}


def test_the_tenth_success_takes_the_last_slot_of_its_month():
    f, _ = _success(at(2026, 1, 12), slots_used={("monthly_successes", "2026-01"): 9})
    referrer = [d for d in evaluate_rewards(SPEC, f, at(2026, 1, 20), CAL) if d.side == "referrer"]
    assert {(d.status, d.cap_slot) for d in referrer} == {
        ("pending", ("monthly_successes", "2026-01"))
    }


def test_a_success_belongs_to_the_month_its_window_ends_in():
    # Purchased 28 January: the 7-day window ends in February, so February's slots count.
    f, _ = _success(at(2026, 1, 28), slots_used={("monthly_successes", "2026-01"): 10})
    referrer = [d for d in evaluate_rewards(SPEC, f, at(2026, 2, 10), CAL) if d.side == "referrer"]
    assert {d.cap_slot for d in referrer} == {("monthly_successes", "2026-02")}


def test_a_slot_once_refused_is_never_promoted_later():
    f, _ = _success(at(2026, 1, 12), cap_state={"monthly_successes": "refused"})
    assert {
        d.status for d in evaluate_rewards(SPEC, f, at(2026, 1, 20), CAL) if d.side == "referrer"
    } == {"capped"}


def test_campaign_windows_double_lottery_tickets_by_the_purchase_time():
    inside, _ = _success(at(2026, 3, 8, 23))
    ticket = by_reason(evaluate_rewards(SPEC, inside, at(2026, 3, 30), CAL))[
        "referrer", "stage:lottery_ticket"
    ]
    assert (ticket.points, ticket.boost) == (2, "double_tickets_1")
    outside, _ = _success(at(2026, 3, 9, 1))
    ticket = by_reason(evaluate_rewards(SPEC, outside, at(2026, 3, 30), CAL))[
        "referrer", "stage:lottery_ticket"
    ]
    assert (ticket.points, ticket.boost) == (1, "")


def test_double_eleven_doubles_points_and_tickets():
    f, _ = _success(at(2026, 11, 11))
    decisions = by_reason(evaluate_rewards(SPEC, f, at(2026, 11, 30), CAL))
    assert decisions["referrer", "stage:success_points"].points == 600
    assert decisions["referrer", "stage:lottery_ticket"].points == 2


def test_dormant_customers_get_the_reactivation_bonus_on_their_first_success_only():
    dormant = ParticipantFact(
        100,
        {"orders_count": 2, "phone_verified": True, "last_order_at": "2025-06-01T00:00:00+08:00"},
    )
    f, _ = _success(at(2026, 1, 12), referrer=dormant)
    bonus = {
        d.reason: d
        for d in evaluate_rewards(SPEC, f, at(2026, 1, 20), CAL)
        if d.reason.startswith("bonus:")
    }
    assert set(bonus) == {
        "bonus:reactivation_coupon",
        "bonus:reactivation_free_shipping",
        "bonus:reactivation_ticket",
    }
    assert (
        bonus["bonus:reactivation_coupon"].amount_minor,
        bonus["bonus:reactivation_coupon"].details["min_spend"],
    ) == (5000, 29900)
    assert bonus["bonus:reactivation_ticket"].points == 1
    f, _ = _success(at(2026, 1, 12), referrer=dormant, referrer_successes_before=1)
    assert not [
        d for d in evaluate_rewards(SPEC, f, at(2026, 1, 20), CAL) if d.reason.startswith("bonus:")
    ]
    recent = ParticipantFact(
        100,
        {"orders_count": 2, "phone_verified": True, "last_order_at": "2025-12-01T00:00:00+08:00"},
    )
    f, _ = _success(at(2026, 1, 12), referrer=recent)
    assert not [
        d for d in evaluate_rewards(SPEC, f, at(2026, 1, 20), CAL) if d.reason.startswith("bonus:")
    ]


def test_an_ineligible_referrer_is_blocked_but_the_friend_keeps_the_offer():
    unverified = ParticipantFact(100, {"orders_count": 3})
    assert eligibility(SPEC, unverified, "referrer") == ["phone_verified"]
    f, _ = _success(at(2026, 1, 12), referrer=unverified)
    decisions = evaluate_rewards(SPEC, f, at(2026, 1, 20), CAL)
    assert {(d.status, d.blocked_reason) for d in decisions if d.side == "referrer"} == {
        ("rejected", "ineligible:phone_verified")
    }
    assert {d.status for d in decisions if d.side == "referee"} == {"pending"}


def test_a_referee_who_ordered_before_is_not_new():
    f, _ = _success(at(2026, 1, 12), referee=ParticipantFact(201, {"orders_count": 1}))
    referee = [d for d in evaluate_rewards(SPEC, f, at(2026, 1, 20), CAL) if d.side == "referee"]
    assert {(d.status, d.blocked_reason) for d in referee} == {
        ("rejected", "ineligible:never_ordered")
    }


def test_fraud_review_holds_and_rejection_blocks_everything():
    f, _ = _success(at(2026, 1, 12), fraud_decision="review")
    assert {d.hold_reason for d in evaluate_rewards(SPEC, f, at(2026, 1, 20), CAL)} == {"review"}
    f, _ = _success(at(2026, 1, 12), fraud_decision="reject")
    assert {
        (d.status, d.blocked_reason) for d in evaluate_rewards(SPEC, f, at(2026, 1, 20), CAL)
    } == {("rejected", "fraud")}


def _log(*due_days, month=1):
    return [
        CountedFact(
            referral_id=i,
            stage_key="first_order",
            occurred_at=later(at(2026, month, d), -7),
            due_at=at(2026, month, d),
            success=True,
        )
        for i, d in enumerate(due_days, start=1)
    ]


def test_the_monthly_ladder_pays_at_three_and_five_once_per_month():
    assert evaluate_tiers(SPEC, MEMBER, _log(3, 5), at(2026, 1, 31), CAL) == []
    decisions = by_reason(
        evaluate_tiers(SPEC, MEMBER, _log(3, 5, 9, 10, 12, 20, 25), at(2026, 1, 31), CAL)
    )
    assert set(decisions) == {
        ("referrer", "tier:ladder_3_coupon"),
        ("referrer", "tier:ladder_3_points"),
        ("referrer", "tier:ladder_5_gift"),
        ("referrer", "tier:ladder_5_trial"),
    }
    coupon = decisions["referrer", "tier:ladder_3_coupon"]
    assert (coupon.amount_minor, coupon.details["min_spend"], coupon.scope, coupon.due_at) == (
        3000,
        16900,
        "period:2026-01",
        at(2026, 1, 9),
    )
    assert decisions["referrer", "tier:ladder_3_points"].points == 200
    assert decisions["referrer", "tier:ladder_5_gift"].due_at == at(2026, 1, 12)
    # Next month starts again from zero.
    february = evaluate_tiers(
        SPEC, MEMBER, _log(3, 5, 9) + _log(2, 3, 4, month=2), at(2026, 2, 28), CAL
    )
    assert sorted({d.scope for d in february}) == ["period:2026-01", "period:2026-02"]


def test_successes_still_in_their_window_do_not_count_for_the_ladder():
    assert evaluate_tiers(SPEC, MEMBER, _log(3, 5, 9), at(2026, 1, 8), CAL) == []


def test_lottery_draws_are_deterministic_from_the_seed_and_each_ticket_wins_once():
    tickets = [f"t{i}" for i in range(200)]
    prizes = SPEC["lottery"]["draws"][0]["prizes"]
    wins = draw_lottery("seed-2026-W03", tickets, prizes)
    assert wins == draw_lottery("seed-2026-W03", list(reversed(tickets)), prizes)
    assert len(wins) == 90 and len({w.ticket for w in wins}) == 90
    assert [sum(1 for w in wins if w.prize_key == p["key"]) for p in prizes] == [20, 20, 50]
    assert draw_lottery("another-seed", tickets, prizes) != wins
    monthly = draw_lottery(
        "seed-2026-01",
        tickets,
        SPEC["lottery"]["draws"][1]["prizes"],
        exclude=[w.ticket for w in wins],
    )
    assert len(monthly) == 5 and not {w.ticket for w in monthly} & {w.ticket for w in wins}
    assert seed_commitment("seed") == seed_commitment("seed") != seed_commitment("seed2")


def test_lottery_prizes_are_keyed_by_the_winning_ticket():
    decisions = lottery_decisions(
        SPEC, "monthly", "2026-01", "s", {"t1": 100, "t2": 100, "t3": 101}, at(2026, 2, 1)
    )
    assert len(decisions) == 3
    assert {d.reason for d in decisions} == {
        "lottery:monthly-2026-01:t1",
        "lottery:monthly-2026-01:t2",
        "lottery:monthly-2026-01:t3",
    }
    assert {d.description for d in decisions} == {"Eco gift set"}


def test_points_expire_six_months_after_they_were_credited():
    lots = [
        PointsLot(1, 300, at(2026, 1, 15)),
        PointsLot(2, 250, at(2026, 2, 1)),
        PointsLot(3, 0, at(2026, 1, 1)),
    ]
    expired = points_expiry(SPEC, lots, at(2026, 7, 20), CAL)
    assert [(e.lot_id, e.points, e.expires_at) for e in expired] == [(1, 300, at(2026, 7, 15))]


@pytest.mark.parametrize("probability, expected", [(0, 0), (100, 1)])
def test_the_surprise_bonus_follows_its_probability(probability, expected):
    spec = green_home_spec(2026)
    spec["surprise"]["probability_percent"] = probability
    f, _ = _success(at(2026, 1, 12))
    surprise = [
        d
        for d in evaluate_rewards(spec, f, at(2026, 1, 20), CAL)
        if d.reason == "bonus:surprise_points"
    ]
    assert len(surprise) == expected
