"""The facts read together give what each read alone gives, and a busy participant or
referrer, past what one read keeps, is read the old way."""

from __future__ import annotations

from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext

from fraud import facts
from referral_platform.core import clock


def referrals_over_months(make, program, referrer, hours: list[float]):
    start = clock.now() - timedelta(days=100)
    return [
        make.referral(
            program,
            referrer,
            make.participant(program.tenant),
            at=start + timedelta(hours=h),
        )
        for h in hours
    ]


# Sign-ups spread over 100 days, with a burst in the last week: every window of the
# burst signals (the last hour, 30 days, ±7 days, 90 days before the week) holds some.
HOURS = [5, 30, 31, 200, 700, 1500, 2300, 2310, 2320, 2330, 2350, 2395, 2399.5, 2400]


def test_one_read_of_the_referrers_times_gives_what_each_window_read_alone_gives(
    tenant, program, make
):
    ann = make.participant(tenant)
    referrals = referrals_over_months(make, program, ann, HOURS)
    for referral in (referrals[-1], referrals[-5], referrals[4]):
        with CaptureQueriesContext(connection) as together:
            times = facts._ReferrerTimes(referral)
            merged = (facts._burst(referral, times), facts._burst_days(referral, times))
        alone = facts._ReferrerTimes(referral)
        alone.rows = None  # as for a referrer past BURST_ROWS: each window read alone
        with CaptureQueriesContext(connection) as each:
            separate = (facts._burst(referral, alone), facts._burst_days(referral, alone))
        assert merged == separate
        assert (len(together), len(each)) == (1, 4)
    # The burst is seen: two sign-ups within the last one's hour, eight in its week.
    last = referrals[-1]
    times = facts._ReferrerTimes(last)
    assert facts._burst(last, times)[0] == 2
    week, _usual, closest_hours = facts._burst_days(last, times)
    assert (week, closest_hours) == (8, 0.5)


def test_a_referrer_past_the_limit_is_read_window_by_window(tenant, program, make, monkeypatch):
    ann = make.participant(tenant)
    referrals = referrals_over_months(make, program, ann, HOURS)
    monkeypatch.setattr(facts, "BURST_ROWS", 5)
    times = facts._ReferrerTimes(referrals[-1])
    assert times.rows is None
    assert facts._burst(referrals[-1], times)[0] == 2


def test_a_referrer_past_what_one_read_keeps_has_the_window_read_alone(
    tenant, program, make, monkeypatch
):
    """The referrer's referees and the times of the window come from one read; past
    `CIRCLE_ROWS` the window is read on its own and keeps the same rows."""
    ann = make.participant(tenant)
    referrals = referrals_over_months(make, program, ann, HOURS)
    last = referrals[-1]
    with CaptureQueriesContext(connection) as one:
        times = facts._ReferrerTimes(last)
    assert sorted(times.all_referees) == sorted(r.referee_id for r in referrals)
    # The window runs from 97 days before the last sign-up: the sign-ups at 5 and 30 hours
    # (100 days before) fall outside it.
    assert sorted(times.rows) == sorted((r.created_at, r.referee_id, r.pk) for r in referrals[3:])
    monkeypatch.setattr(facts, "CIRCLE_ROWS", 3)
    with CaptureQueriesContext(connection) as two:
        busy = facts._ReferrerTimes(last)
    assert len(busy.all_referees) == 4  # CIRCLE_ROWS + 1: the signals see "more than kept"
    assert sorted(busy.rows) == sorted(times.rows)
    assert (len(one), len(two)) == (1, 2)


def test_both_parties_events_come_from_one_read_and_answer_the_referees_times(
    tenant, make, monkeypatch
):
    ann, bo = make.participant(tenant), make.participant(tenant)
    now = clock.now()
    for n, kind in enumerate(("refund", "purchase", "signup")):
        make.event(ann, type=kind, at=now - timedelta(hours=n), context={"ip": f"10.0.0.{n}"})
    make.event(bo, at=now, context={"ip": "10.9.9.9"})
    first_purchase = now - timedelta(hours=1)

    def read():
        """Both parties' latest events, the referee's first purchase, and the queries made."""
        with CaptureQueriesContext(connection) as queries:
            recent = facts._recent_events(tenant, [ann, bo])
            first = facts._first_event_time(tenant.pk, ann.pk, "purchase", recent[ann.pk])
        contexts = [facts._contexts(recent[p.pk]) for p in (ann, bo)]
        return contexts, first, len(queries)

    assert read() == (
        [[{"ip": "10.0.0.0"}, {"ip": "10.0.0.1"}, {"ip": "10.0.0.2"}], [{"ip": "10.9.9.9"}]],
        first_purchase,
        1,
    )
    # Past MAX_EVENTS the one read finds someone over it, each is read alone and keeps its
    # own latest, and the first purchase, which the latest do not hold, is read: 4 queries.
    monkeypatch.setattr(facts, "MAX_EVENTS", 2)
    assert read() == (
        [[{"ip": "10.0.0.0"}, {"ip": "10.0.0.1"}], [{"ip": "10.9.9.9"}]],
        first_purchase,
        4,
    )


def test_the_refunds_timing_is_the_same_from_the_latest_events_and_read_alone(
    tenant, program, make, monkeypatch
):
    from tracking.models import ReferralStage

    ann, bob = make.participant(tenant), make.participant(tenant)
    now = clock.now()
    referral = make.referral(program, ann, bob, at=now - timedelta(days=30))
    ReferralStage.unscoped.create(
        tenant=tenant,
        referral=referral,
        stage_key="paid",
        status_set="converted",
        occurred_at=now - timedelta(days=30),
        due_at=now - timedelta(days=16),
    )
    make.event(bob, type="purchase", at=now - timedelta(days=30))
    late = make.event(bob, type="refund", at=now - timedelta(days=6))
    inside = make.event(bob, type="refund", at=now - timedelta(days=20))

    def timing(stage_key):
        recent = facts._recent_events(tenant, [bob])[bob.pk]
        return facts._refund_timing(referral, stage_key, recent)

    expected = {
        "paid": (10.0, False),  # the latest refund, ten days after the hold ended
        f"refund:{late.pk}": (10.0, False),
        f"refund:{inside.pk}": (None, True),  # inside the hold
    }
    assert {key: timing(key) for key in expected} == expected
    monkeypatch.setattr(facts, "MAX_EVENTS", 1)  # the latest event alone: the rest is read
    assert {key: timing(key) for key in expected} == expected


def test_an_assessments_facts_are_the_same_whichever_way_they_are_read(
    tenant, program, make, monkeypatch
):
    """Named referees or a subquery, one read of the referrer's referrals or one per window,
    one read of who shares the parties' identifiers or one per signal: the same facts, for a
    referrer whose friends buy, refund, share an office's address and a phone, next to a
    rejected referral on that phone."""
    ann = make.participant(tenant)
    now = clock.now()

    def seen(participant, context, at):
        make.event(participant, at=at, context=context)
        ident = facts.participant_identity(participant, [context])
        facts.fingerprints_record(tenant, [(participant, ident)], seen_at=at)

    office = {"ip": "100.64.0.9"}
    for _n in range(4):  # strangers on the office's address: a shared, public one
        seen(make.participant(tenant), office, now - timedelta(days=9))
    seen(ann, office, now - timedelta(days=30))  # the referrer works there too
    mallory, phone = make.participant(tenant), {"device_id": "phone-1"}
    seen(mallory, phone, now - timedelta(days=20))
    make.referral(program, make.participant(tenant), mallory, status="rejected")
    referrals = []
    for n in range(4):
        friend = make.participant(tenant, email=f"f{n}@qq.com")
        at = now - timedelta(days=3 * n)
        referrals.append(make.referral(program, ann, friend, at=at))
        context = {**office, **(phone if n < 2 else {"device_id": f"own-{n}"})}
        make.event(friend, type="signup", at=at, context=context)
        make.event(friend, type="purchase", at=at + timedelta(days=1), context=context)
        if n % 2:
            make.event(friend, type="refund", at=at + timedelta(days=2))

    def read(referral):
        return facts.assessment_facts(referral=referral, stage_key="paid", unreleased_rewards=1)

    for referral in referrals:  # each friend's identifiers on record
        read(referral)
    usual = [read(r) for r in referrals]
    assert (usual[0].referrer_purchases, usual[0].referrer_refunds) == (4, 2)
    first = usual[0]
    # The office's address is shared with four strangers (so it is no sign of a ring); two
    # friends, and Mallory whose referral was rejected, hold one phone.
    assert (first.shared_ip_others, first.velocity, first.duplicates["device"]) == (
        4,
        {"ip": 0, "device": 1, "address": 0},
        1,
    )
    assert first.ring_kinds == ("device",)
    assert usual[3].velocity == {"ip": 0, "device": 0, "address": 0}
    for limit in ("NAMED_REFEREES", "BURST_ROWS", "SHARED_ROWS"):
        monkeypatch.setattr(facts, limit, 0)
    assert [read(r) for r in referrals] == usual
