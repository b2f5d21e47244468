"""Properties of the rule engine (hypothesis): caps hold, answers are stable, versions and
re-ordering never change or create money."""

import copy
from collections import Counter
from datetime import timedelta
from types import SimpleNamespace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from programs import selectors, services
from programs.engine import ParticipantFact, evaluate_rewards, reserved_value
from programs.engine.rewards import item_value
from programs.templates_data import green_home_spec

from .factsbuilder import CAL, at, ev, facts

MEMBER = ParticipantFact(100, {"orders_count": 4, "phone_verified": True})
NOW = at(2026, 6, 1)

purchase_st = st.tuples(
    st.integers(min_value=0, max_value=50),  # day offset from 2 January (no campaign window)
    st.integers(min_value=0, max_value=23),
    st.integers(min_value=5000, max_value=30000),
    st.one_of(st.none(), st.integers(min_value=0, max_value=9)),  # refund after N days
)


def _referrals(purchases):
    out = []
    for index, (day, hour, amount, refund_after) in enumerate(purchases, start=1):
        when = at(2026, 1, 2, 0) + timedelta(days=day, hours=hour)
        events = [
            ev("signup", when - timedelta(hours=1)),
            ev("purchase", when, amount, order_id=f"o{index}"),
        ]
        if refund_after is not None:
            events.append(
                ev("refund", when + timedelta(days=refund_after), amount, order_id=f"o{index}")
            )
        out.append((index, events))
    return out


def _run(spec, referrals, order):
    """What rewards does: referrals processed one by one, each told the slots others hold."""
    held: Counter = Counter()
    results = {}
    for index in order:
        events = dict(referrals)[index]
        decisions = evaluate_rewards(
            spec,
            facts(*events, referral_id=index, referrer=MEMBER, slots_used=dict(held)),
            NOW,
            CAL,
        )
        slots = {d.cap_slot for d in decisions if d.cap_slot and d.status == "pending"}
        for slot in slots:
            held[slot] += 1 if spec["caps"][0].get("measure", "count") == "count" else 0
        if spec["caps"][0].get("measure") == "amount":
            for d in decisions:
                if d.cap_slot and d.status == "pending":
                    held[d.cap_slot] += reserved_value(_as_values(d), spec)
        results[index] = decisions
    return results, held


def _as_values(decision):
    return {
        "kind": decision.kind,
        "amount": decision.amount_minor,
        "points": decision.points,
        **decision.details,
    }


def _capped_spec(limit, measure="count"):
    spec = green_home_spec(2026)
    spec["caps"][0].update(limit=limit, measure=measure)
    return spec


@given(st.lists(purchase_st, max_size=25), st.integers(min_value=0, max_value=6))
@settings(max_examples=60, deadline=None)
def test_no_sequence_of_successes_gets_more_paid_successes_per_month_than_the_cap(purchases, limit):
    spec = _capped_spec(limit)
    results, held = _run(spec, _referrals(purchases), range(1, len(purchases) + 1))
    paying = Counter()
    for decisions in results.values():
        slots = {
            d.cap_slot
            for d in decisions
            if d.side == "referrer" and d.reason.startswith("stage:") and d.status == "pending"
        }
        assert len(slots) <= 1
        paying.update(slots)
    assert all(count <= limit for count in paying.values())
    assert paying == held


@given(st.lists(purchase_st, max_size=20), st.integers(min_value=0, max_value=8000))
@settings(max_examples=60, deadline=None)
def test_an_amount_cap_is_never_exceeded_at_the_most_expensive_option(purchases, limit):
    spec = _capped_spec(limit, measure="amount")
    spec["caps"][0]["items"] = ["referrer_choice"]
    results, held = _run(spec, _referrals(purchases), range(1, len(purchases) + 1))
    per_month = Counter()
    for decisions in results.values():
        for d in decisions:
            if d.rule_key == "referrer_choice" and d.status == "pending":
                per_month[d.cap_slot] += max(
                    item_value(o, spec) for o in spec["stages"][1]["rewards"][0]["options"]
                )
    assert all(total <= limit for total in per_month.values())


@given(
    st.lists(purchase_st, min_size=1, max_size=12),
    st.randoms(use_true_random=False),
    st.integers(0, 12),
)
@settings(max_examples=60, deadline=None)
def test_the_same_facts_give_the_same_answer_whatever_their_order(purchases, rnd, used):
    spec = green_home_spec(2026)
    for index, events in _referrals(purchases):
        shuffled = list(events)
        rnd.shuffle(shuffled)
        slots = {("monthly_successes", "2026-01"): used, ("monthly_successes", "2026-02"): used}
        first = evaluate_rewards(
            spec, facts(*events, referral_id=index, referrer=MEMBER, slots_used=slots), NOW, CAL
        )
        again = evaluate_rewards(
            spec,
            facts(*shuffled, referral_id=index, referrer=MEMBER, slots_used=dict(slots)),
            NOW,
            CAL,
        )
        assert first == again


def _money(results, spec):
    return sum(
        reserved_value(_as_values(d), spec)
        for decisions in results.values()
        for d in decisions
        if d.status == "pending"
    )


@given(
    st.lists(purchase_st, max_size=20),
    st.integers(min_value=0, max_value=5),
    st.randoms(use_true_random=False),
)
@settings(max_examples=60, deadline=None)
def test_processing_unreleased_referrals_in_another_order_creates_no_money(purchases, limit, rnd):
    spec = _capped_spec(limit)
    referrals = _referrals(purchases)
    order = list(range(1, len(purchases) + 1))
    shuffled = list(order)
    rnd.shuffle(shuffled)
    results, held = _run(spec, referrals, order)
    reordered, held_again = _run(spec, referrals, shuffled)
    assert held == held_again
    assert _money(reordered, spec) == _money(results, spec)


@pytest.mark.django_db
@given(
    new_amount=st.integers(min_value=0, max_value=100000),
    new_limit=st.integers(min_value=0, max_value=20),
)
@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_a_version_change_leaves_earlier_decisions_alone(tenant, new_amount, new_limit):
    program = selectors.program_list(tenant).filter(
        slug="green-home"
    ).first() or services.program_create(tenant=tenant, spec=green_home_spec(2026), actor=None)
    first_version = selectors.program_version_get(program, 1)
    referral = SimpleNamespace(
        program=program, program_version_id=first_version.pk, program_version=first_version
    )
    f = facts(*_referrals([(5, 10, 12000, None)])[0][1], referrer=MEMBER)
    before = evaluate_rewards(selectors.program_version_for(referral).spec, f, NOW, CAL)
    spec = copy.deepcopy(program.spec)
    spec["stages"][1]["rewards"][0]["options"][0]["amount"] = new_amount
    spec["caps"][0]["limit"] = new_limit
    services.program_update(program=program, spec=spec, actor=None)
    assert selectors.program_version_for(referral).number == 1
    assert evaluate_rewards(selectors.program_version_for(referral).spec, f, NOW, CAL) == before
