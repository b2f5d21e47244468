"""What processing one event costs in SQL: the bench's sign-up and purchase, pinned."""

from __future__ import annotations

import pytest

from pipeline import flow
from programs.services import program_create
from rewards.models import Reward
from tracking import services as tracking
from tracking.models import Referral
from tracking.tests.conftest import make_spec

OCCURRED = "2026-03-03T09:30:00+08:00"


@pytest.fixture
def bench_program(tenant):
    spec = make_spec()
    spec["starts_at"] = "2026-01-01T00:00:00+08:00"
    spec["stages"][0]["rewards"] = [
        {"key": "referrer-cash", "side": "referrer", "kind": "cash", "amount": 3000},
        {"key": "referee-cash", "side": "referee", "kind": "cash", "amount": 2000},
    ]
    return program_create(tenant=tenant, spec=spec, actor=None)


def ingest(tenant, payload):
    from datetime import datetime

    data = {**payload, "occurred_at": datetime.fromisoformat(payload["occurred_at"])}
    return tracking.event_ingest(tenant=tenant, data=data, payload=payload)[0]


def pair(tenant, code, i):
    who = {"external_id": f"referee-{i}", "email": f"referee{i}@example.com"}
    context = {"ip": f"10.0.0.{i}"}
    signup = ingest(
        tenant,
        {"event_id": f"signup-{i}", "type": "signup", "occurred_at": OCCURRED,
         "participant": who, "referral": {"code": code}, "context": context},
    )  # fmt: skip
    purchase = ingest(
        tenant,
        {"event_id": f"purchase-{i}", "type": "purchase",
         "occurred_at": "2026-03-03T10:30:00+08:00", "participant": who,
         "order_id": f"order-{i}", "amount": {"amount_minor": 15000, "currency": "CNY"},
         "properties": {"first_order": True}, "context": context},
    )  # fmt: skip
    return signup, purchase


# What one event costs when processed alone (`event_process_by_id`: its own claim and
# transaction). History: 75 → 66 for the sign-up, 66 → 62 for the purchase; + 1 for the
# purchase (the holdout); + 5 each (fraud's referrer-address, duplicate and slow-burst
# signals): 71 and 68; then + 5 each when processing became chunked (a claim is a locked
# SELECT and an UPDATE, the chunk's transaction and the event's each a savepoint here),
# - 1 for the sign-up (a new referral's unreleased rewards are not counted: it has none);
# - 7 each (an assessment stored with a read and a write instead of update_or_create's
# savepoints, the reward locks taken in one statement, the chunk's events locked together,
# a referrer's purchases and refunds counted in one query); - 1 each (a program without a
# budget no longer reads its other rewards to add up a budget it does not have); 67 → 62
# and 65 → 56 (both parties' event contexts in one read, the referrer's sign-up times for
# the burst signals in one read instead of four, a program without caps not reading the cap
# slots, the rewards and their audit entries each written in one statement); 61 and 53
# (the referee's first purchase and latest refund found among the events fraud already
# read, a referral's written keys among the rewards the sync already read); 58 and 50 (who
# else holds the parties' identifiers read once for velocity, shared addresses, duplicates
# and rings); 47 and 45 (a referral created in this transaction neither locked nor read
# again for its assessment and case, its referrer read with the enrollment, no claims
# updated when none were pending, the referee's namesakes read once for leads and
# self-referral, the referrer's referees with their sign-up times, no savepoint for the
# participant's upsert or the rewards sync); 46 and 44 (a referrer's reward lock, once
# its row exists, taken in one statement); 39 and 42 (a participant created by the event
# has no claim or referral to read and its referral needs no savepoint; no savepoint around
# fraud's facts); 37 (a referral opened by the sign-up has its decision from the assessment
# just stored, and no rewards to read); 40 (rewards of the referral's own scope, which only
# its syncs write under the referrer's lock, inserted without a savepoint).
SIGNUP_QUERIES = 37
PURCHASE_QUERIES = 40
# Per event in a chunk, as the worker runs them: the claim, the load and lock, the UPDATE
# marking them processed and, in production, the COMMIT are paid once per chunk, and so are
# the reads of what staff change and the flow never writes (the fraud policy, blocklist,
# leaked codes, webhook endpoints, program rules: `referral_platform.core.memo`). History:
# 71 and 68 before chunks, 69 and 66 with them before the savings above, 60 and 58 before
# the budget's read went, 59 and 57 before the merged reads and writes, 54 and 48 before
# the memo, 50 and 44 before the reads above were reused, 49 and 41 before the
# identifiers' holders were read once, 46 and 38 before the savings of 47 and 45 above,
# 35 and 33 before the reward lock's, 34 and 32 before those of 39 and 42, 27 and 30
# before a chunk ran first as a whole, without a savepoint per event, 25 before the savings
# of 37, 28 before those of 40, 23 and 26 before a chunk's audit entries were written
# together.
# Most of what is left is fraud's scoring facts (about 15 queries a referral and
# stage) and the rewards sync under its lock.
CHUNK = 10
SIGNUP_QUERIES_IN_CHUNK = 22
PURCHASE_QUERIES_IN_CHUNK = 25


def test_a_signup_and_a_purchase_cost_a_pinned_number_of_queries(
    tenant, bench_program, django_assert_max_num_queries
):
    referrer, _ = tracking.participant_upsert(tenant=tenant, external_id="referrer-0")
    code = tracking.enrollment_create(tenant=tenant, program=bench_program, participant=referrer)[1]
    # A first pair warms what a running worker has cached.
    for event in pair(tenant, code.code, 0):
        assert flow.event_process_by_id(event.pk) == "processed"
    signup, purchase = pair(tenant, code.code, 1)
    with django_assert_max_num_queries(SIGNUP_QUERIES):
        assert flow.event_process_by_id(signup.pk) == "processed"
    referral = Referral.unscoped.get(referee__external_id="referee-1")
    assert (referral.referrer_id, referral.status) == (referrer.pk, "pending")
    with django_assert_max_num_queries(PURCHASE_QUERIES):
        assert flow.event_process_by_id(purchase.pk) == "processed"
    referral.refresh_from_db()
    assert referral.status == "converted"
    rewards = Reward.unscoped.filter(referral=referral).order_by("side")
    assert [(r.side, r.amount_minor) for r in rewards] == [("referee", 2000), ("referrer", 3000)]


def test_in_a_chunk_each_event_costs_a_pinned_number_of_queries(
    tenant, bench_program, django_assert_max_num_queries
):
    referrers = []
    for i in range(3):
        referrer, _ = tracking.participant_upsert(tenant=tenant, external_id=f"referrer-{i}")
        referrers.append(
            tracking.enrollment_create(tenant=tenant, program=bench_program, participant=referrer)[
                1
            ]
        )
    for event in pair(tenant, referrers[0].code, 0):
        assert flow.event_process_by_id(event.pk) == "processed"
    pairs = [pair(tenant, referrers[i % 3].code, i) for i in range(1, CHUNK + 1)]
    with django_assert_max_num_queries(SIGNUP_QUERIES_IN_CHUNK * CHUNK):
        assert flow.events_process([s.pk for s, _ in pairs]) == {
            "processed": CHUNK, "failed": 0, "skipped": 0,
        }  # fmt: skip
    with django_assert_max_num_queries(PURCHASE_QUERIES_IN_CHUNK * CHUNK):
        assert flow.events_process([p.pk for _, p in pairs])["processed"] == CHUNK
    assert Referral.unscoped.filter(tenant=tenant, status="converted").count() == CHUNK + 1
    assert Reward.unscoped.filter(tenant=tenant).count() == 2 * (CHUNK + 1)


def rows_read(event_pk: int) -> int:
    """The rows the database returned while the event was processed."""
    from django.db import connection

    rows = 0

    def count(execute, sql, params, many, context):
        nonlocal rows
        result = execute(sql, params, many, context)
        if sql.lstrip().upper().startswith("SELECT"):
            rows += max(context["cursor"].rowcount, 0)
        return result

    with connection.execute_wrapper(count):
        assert flow.event_process_by_id(event_pk) == "processed"
    return rows


def test_what_an_event_reads_does_not_grow_with_the_program(tenant, bench_program):
    """A program without a budget never reads its other referrals' rewards: an event of a
    program paying thousands costs what it costs in a new one."""

    def first_referral_of_a_new_referrer(i):
        referrer, _ = tracking.participant_upsert(tenant=tenant, external_id=f"referrer-{i}")
        code = tracking.enrollment_create(
            tenant=tenant, program=bench_program, participant=referrer
        )[1]
        return pair(tenant, code.code, i)

    def paid(count, start):
        for i in range(start, start + count):
            for event in first_referral_of_a_new_referrer(i):
                assert flow.event_process_by_id(event.pk) == "processed"

    paid(2, 0)
    small = [rows_read(e.pk) for e in first_referral_of_a_new_referrer(100)]
    paid(10, 2)
    large = [rows_read(e.pk) for e in first_referral_of_a_new_referrer(200)]
    assert Reward.unscoped.filter(tenant=tenant).count() == 2 * 14
    assert large == small
