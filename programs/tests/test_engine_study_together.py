"""SCENARIOS.md C (`study-together`) run through the rule engine."""

from datetime import timedelta

from programs.engine import (
    CountedFact,
    ParticipantFact,
    TeamMember,
    evaluate_rewards,
    evaluate_stages,
    evaluate_tiers,
    team_evaluate,
)
from programs.templates_data import study_together_spec

from .factsbuilder import CAL, at, by_reason, ev, facts

SPEC = study_together_spec(2026)
STUDENT = ParticipantFact(100, {"study_weeks": 6})


def _course(when, amount=198000, weeks=12):
    return ev("purchase", when, amount, order_id="c1", course_weeks=weeks)


def _trial(when):
    return ev("activity", when, kind="trial_lesson_attended")


def test_the_two_stages_pay_as_the_plan_says_with_charity_matching():
    f = facts(
        ev("signup", at(2026, 1, 5)), _trial(at(2026, 1, 6)), _trial(at(2026, 1, 8)), _course(at(2026, 1, 10)),
        referrer=STUDENT,
    )  # fmt: skip
    decisions = by_reason(evaluate_rewards(SPEC, f, at(2026, 1, 20), CAL))
    assert set(decisions) == {
        ("referee", "stage:trial_pack"),
        ("referee", "stage:referee_discount"),
        ("referrer", "stage:trial_fund"),
        ("referrer", "stage:success_fund"),
        ("referrer", "charity:charity_match"),
    }
    assert decisions["referee", "stage:referee_discount"].amount_minor == 30000
    trial = decisions["referrer", "stage:trial_fund"]
    assert (trial.amount_minor, trial.details["valid_days"], trial.due_at) == (
        10000,
        60,
        at(2026, 1, 8),
    )
    fund = decisions["referrer", "stage:success_fund"]
    assert (fund.amount_minor, fund.hold_reason, fund.due_at) == (30000, "choice", at(2026, 1, 17))
    assert fund.choice_deadline == at(2026, 1, 31)
    assert [o["key"] for o in fund.options] == ["fund_300", "speaking_diagnosis"]
    charity = decisions["referrer", "charity:charity_match"]
    assert (charity.kind, charity.amount_minor) == ("donation", 5000)


def test_one_trial_lesson_is_not_enough():
    f = facts(ev("signup", at(2026, 1, 5)), _trial(at(2026, 1, 6)), referrer=STUDENT)
    assert [s.stage_key for s in evaluate_stages(SPEC, f, at(2026, 2, 1), CAL)] == ["welcome"]


def test_a_class_transfer_inside_the_week_cancels_the_success_and_its_donation():
    f = facts(
        ev("signup", at(2026, 1, 5)), _course(at(2026, 1, 10)), ev("activity", at(2026, 1, 14), kind="class_transfer"),
        referrer=STUDENT,
    )  # fmt: skip
    reasons = {d.reason for d in evaluate_rewards(SPEC, f, at(2026, 2, 1), CAL)}
    assert "stage:success_fund" not in reasons and "charity:charity_match" not in reasons


def test_short_or_cheap_courses_are_not_a_success():
    for course in (_course(at(2026, 1, 10), weeks=8), _course(at(2026, 1, 10), amount=179999)):
        f = facts(ev("signup", at(2026, 1, 5)), course, referrer=STUDENT)
        assert [s.stage_key for s in evaluate_stages(SPEC, f, at(2026, 2, 1), CAL)] == ["welcome"]


def test_a_referrer_with_a_refund_in_progress_is_blocked():
    f = facts(
        ev("signup", at(2026, 1, 5)),
        _course(at(2026, 1, 10)),
        referrer=ParticipantFact(1, {"study_weeks": 3, "refund_in_progress": True}),
    )
    referrer = [d for d in evaluate_rewards(SPEC, f, at(2026, 2, 1), CAL) if d.side == "referrer"]
    assert {d.blocked_reason for d in referrer} == {"ineligible:no_refund_in_progress"}


def _successes(*dates, region=None):
    return [
        CountedFact(
            referral_id=i,
            stage_key="paid",
            occurred_at=d - timedelta(days=7),
            due_at=d,
            success=True,
        )
        for i, d in enumerate(dates, start=1)
    ]


def test_the_yearly_ladder_pays_at_one_three_and_five():
    log = _successes(
        at(2026, 1, 20), at(2026, 3, 20), at(2026, 4, 20), at(2026, 10, 20), at(2026, 11, 20)
    )
    decisions = evaluate_tiers(SPEC, STUDENT, log, at(2026, 12, 31), CAL)
    assert [(d.reason, d.due_at, d.scope) for d in decisions] == [
        ("tier:year_1_diagnosis", at(2026, 1, 20), "period:2026"),
        ("tier:year_3_reward", at(2026, 4, 20), "period:2026"),
        ("tier:year_5_reward", at(2026, 11, 20), "period:2026"),
        ("tier:year_5_certificate", at(2026, 11, 20), "period:2026"),
    ]
    assert [o["key"] for o in decisions[1].options] == ["upgrade_voucher", "extra_weeks"]


def test_the_south_china_pilot_doubles_ladder_progress_from_may_to_august():
    log = _successes(at(2026, 5, 20), at(2026, 5, 25))
    south = ParticipantFact(100, {"study_weeks": 6, "region": "south-china"})
    decisions = evaluate_tiers(SPEC, south, log, at(2026, 12, 31), CAL)
    assert [(d.reason, d.boost) for d in decisions] == [
        ("tier:year_1_diagnosis", ""),
        ("tier:year_3_reward", "south_china_pilot"),
    ]
    assert [d.reason for d in evaluate_tiers(SPEC, STUDENT, log, at(2026, 12, 31), CAL)] == [
        "tier:year_1_diagnosis"
    ]
    spent = evaluate_tiers(
        SPEC, south, log, at(2026, 12, 31), CAL, boost_used={"south_china_pilot": 50001}
    )
    assert [d.reason for d in spent] == ["tier:year_1_diagnosis"]


def test_peak_windows_double_ladder_progress_for_everyone():
    log = _successes(at(2026, 7, 20), at(2026, 7, 25))  # counted events on 13 and 18 July
    assert [d.boost for d in evaluate_tiers(SPEC, STUDENT, log, at(2026, 12, 31), CAL)] == [
        "",
        "summer_intensive",
    ]


def test_a_team_of_three_paying_within_a_week_gets_the_larger_discount_and_the_leader_a_fund():
    members = [
        TeamMember(1, at(2026, 3, 1), course_weeks=12, is_leader=True),
        TeamMember(2, at(2026, 3, 4), course_weeks=24, referee_discount=30000),
        TeamMember(3, at(2026, 3, 7), course_weeks=12, referee_discount=30000),
        TeamMember(4, at(2026, 3, 9), course_weeks=12),  # after the 7 days
    ]
    decision = team_evaluate(SPEC, "T1", members, at(2026, 3, 10))
    assert (
        decision.complete
        and decision.members == (1, 2, 3)
        and decision.completed_at == at(2026, 3, 4)
    )
    assert [(d.beneficiary_id, d.reason, d.amount_minor, d.scope) for d in decision.rewards] == [
        (1, "bonus:team_discount", 30000, "team:T1"),
        (1, "bonus:team_leader", 20000, "team:T1"),
        (2, "bonus:team_discount_long", 10000, "team:T1"),  # ¥400 team vs ¥300 referee: never both
    ]


def test_a_team_is_not_complete_with_one_payer_and_overflows_past_four():
    assert not team_evaluate(
        SPEC, "T", [TeamMember(1, at(2026, 3, 1)), TeamMember(2, None)], at(2026, 3, 5)
    ).complete
    five = [TeamMember(i, at(2026, 3, i)) for i in range(1, 6)]
    decision = team_evaluate(SPEC, "T", five, at(2026, 3, 9))
    assert decision.members == (1, 2, 3, 4) and decision.overflow == (5,)


def _payer(pid, when, weeks=12, *events, leader=False, amount=198000):
    purchase = ev("purchase", when, amount, order_id=f"c{pid}", course_weeks=weeks)
    return TeamMember(pid, when, course_weeks=weeks, is_leader=leader, purchase=purchase,
                      events=tuple(events), participant=STUDENT if leader else None)  # fmt: skip


def _refund(pid, when, amount=198000):
    return ev("refund", when, amount, order_id=f"c{pid}")


def test_a_class_transfer_inside_the_hold_takes_only_that_members_team_discount():
    members = [
        _payer(1, at(2026, 3, 1), leader=True),
        _payer(2, at(2026, 3, 3)),
        _payer(3, at(2026, 3, 5), 12, ev("activity", at(2026, 3, 8), kind="class_transfer")),
        _payer(5, at(2026, 3, 6)),
        _payer(6, at(2026, 3, 7)),  # the fifth payer: the next batch, even once 3 has left
    ]
    decision = team_evaluate(SPEC, "T", members, at(2026, 3, 20), CAL)
    assert (decision.complete, decision.members, decision.overflow, decision.completed_at) == (
        True, (1, 2, 5), (6,), at(2026, 3, 3),
    )  # fmt: skip
    assert [(d.beneficiary_id, d.reason, d.due_at) for d in decision.rewards] == [
        (1, "bonus:team_discount", at(2026, 3, 10)),
        (1, "bonus:team_leader", at(2026, 3, 10)),
        (2, "bonus:team_discount", at(2026, 3, 10)),
        (5, "bonus:team_discount", at(2026, 3, 13)),
    ]
    assert [(r.beneficiary_id, r.scope, r.reason, r.reversed_at) for r in decision.reversed] == [
        (3, "team:T", "bonus:team_discount", at(2026, 3, 8)),
    ]


def test_a_team_falling_below_two_counting_payments_reverses_every_item_from_that_moment():
    members = [
        _payer(1, at(2026, 3, 1), 12, _refund(1, at(2026, 3, 2))),
        _payer(2, at(2026, 3, 3), 24),
        _payer(3, at(2026, 3, 4), 12, _refund(3, at(2026, 3, 9))),
        TeamMember(9, None, is_leader=True, participant=STUDENT),
    ]
    decision = team_evaluate(SPEC, "T", members, at(2026, 3, 20), CAL)
    assert (decision.complete, decision.members, decision.rewards) == (False, (2,), ())
    assert [(r.beneficiary_id, r.side, r.reason, r.reversed_at) for r in decision.reversed] == [
        (1, "referee", "bonus:team_discount", at(2026, 3, 2)),  # its own refund came first
        (2, "referee", "bonus:team_discount_long", at(2026, 3, 9)),
        (3, "referee", "bonus:team_discount", at(2026, 3, 9)),
        (9, "referrer", "bonus:team_leader", at(2026, 3, 9)),
    ]
    # The same facts, the same decision; before the second refund the team still stood.
    assert team_evaluate(SPEC, "T", members, at(2026, 3, 20), CAL) == decision
    earlier = team_evaluate(SPEC, "T", members, at(2026, 3, 8), CAL)
    assert earlier.complete and [r.beneficiary_id for r in earlier.reversed] == [1]


def test_a_refund_after_the_hold_or_leaving_the_course_price_undoes_nothing():
    members = [
        _payer(1, at(2026, 3, 1), 12, _refund(1, at(2026, 3, 8, 11))),  # 7 days and 1 hour on
        _payer(2, at(2026, 3, 2), 12, _refund(2, at(2026, 3, 4), amount=10000), amount=200000),
        _payer(3, at(2026, 3, 2), 12, ev("refund", at(2026, 3, 4), 198000, order_id="other")),
        TeamMember(9, None, is_leader=True, participant=STUDENT),
    ]
    decision = team_evaluate(SPEC, "T", members, at(2026, 3, 20), CAL)
    assert decision.complete and decision.members == (1, 2, 3) and decision.reversed == ()


def test_an_ineligible_team_leader_is_blocked_with_the_reason_and_members_keep_their_discounts():
    leader = ParticipantFact(9, {"study_weeks": 6, "risk_flag": True})
    members = [
        _payer(1, at(2026, 3, 1)),
        _payer(2, at(2026, 3, 2)),
        TeamMember(9, None, is_leader=True, participant=leader),
    ]
    decision = team_evaluate(SPEC, "T", members, at(2026, 3, 20), CAL)
    assert [(d.beneficiary_id, d.reason, d.status, d.blocked_reason, d.hold_reason)
            for d in decision.rewards] == [
        (1, "bonus:team_discount", "pending", "", ""),
        (2, "bonus:team_discount", "pending", "", ""),
        (9, "bonus:team_leader", "rejected", "ineligible:no_violations", ""),
    ]  # fmt: skip


def test_the_eleventh_success_in_a_month_is_capped():
    f = facts(
        ev("signup", at(2026, 1, 5)),
        _course(at(2026, 1, 10)),
        referrer=STUDENT,
        slots_used={("monthly_successes", "2026-01"): 10},
    )
    fund = by_reason(evaluate_rewards(SPEC, f, at(2026, 2, 1), CAL))[
        "referrer", "stage:success_fund"
    ]
    assert (fund.status, fund.blocked_reason) == ("capped", "cap:monthly_successes")
