"""Locks as small as the thing they protect, on real PostgreSQL: two transactions of one
tenant on different participants never wait for each other (no tenant-wide or
program-wide lock on the money path), and a deadlock victim is run again."""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import datetime

import pytest
from django.db import connection, transaction

from pipeline.flow import referral_rewards_sync
from referral_platform.core import retry
from referral_platform.core.testing import race, require_or_skip
from rewards import engine_bridge
from rewards.models import LedgerEntry, Reward
from rewards.services import reward_fulfil, reward_release
from rewards.services.common import _lock
from rewards.tests import factories as f
from tracking.services import enrollment_create

pytestmark = pytest.mark.django_db(transaction=True)

PAST = datetime.fromisoformat("2026-01-05T00:00:00+00:00")


@pytest.fixture(autouse=True)
def postgres_only():
    if connection.vendor != "postgresql":
        require_or_skip("row locks need PostgreSQL (set DATABASE_URL)")


def _grant_release_fulfil_enrol(program, referral) -> tuple[str, int]:
    """What an event for one referrer does on the money path: write its reward, release it,
    credit it to the ledger, and enrol a friend of it in the same program."""
    (reward,) = referral_rewards_sync(referral=referral)
    assert reward_release(reward_id=reward.pk)
    outcome = reward_fulfil(reward_id=reward.pk)
    enrollment_create(tenant=program.tenant, program=program, participant=referral.referee)
    return outcome, reward.pk


def test_two_transactions_of_one_tenant_on_different_participants_do_not_block(tenant, monkeypatch):
    program = f.program(tenant)
    ann, bob = f.referral(tenant, program), f.referral(tenant, program)

    def engine(spec, facts, now, cal):
        referrer = ann.referrer if facts.referral_id == ann.pk else bob.referrer
        return [
            f.decision(referrer, f"referral:{facts.referral_id}", "pts", points=100, due_at=PAST)
        ]

    monkeypatch.setattr(engine_bridge, "evaluate_rewards", engine)
    holding, done = threading.Event(), threading.Event()
    seconds = {}

    def work(i):
        if i == 0:
            # Ann's whole money path in one open transaction, held until Bob's is done.
            with transaction.atomic():
                result = _grant_release_fulfil_enrol(program, ann)
                holding.set()
                assert done.wait(20), "Bob's transaction never finished"
            return result
        assert holding.wait(20)
        with connection.cursor() as cursor:
            # Waiting on any of Ann's locks fails this thread instead of hanging.
            cursor.execute("SET lock_timeout = '3s'")
        start = time.monotonic()
        with transaction.atomic():
            result = _grant_release_fulfil_enrol(program, bob)
        seconds["bob"] = time.monotonic() - start
        done.set()
        return result

    results = race(2, work)
    assert sorted(r[0] for r in results) == ["fulfilled", "fulfilled"]
    assert seconds["bob"] < 2
    credits = LedgerEntry.unscoped.filter(tenant=tenant, entry_kind="credit")
    assert sorted(credits.values_list("participant_id", "points")) == sorted(
        [(ann.referrer_id, 100), (bob.referrer_id, 100)]
    )
    assert Reward.unscoped.filter(tenant=tenant, status="fulfilled").count() == 2


def test_a_deadlock_victim_is_run_again_and_both_transactions_commit(tenant, monkeypatch):
    monkeypatch.setattr(retry, "retries", Counter())
    attempts: Counter = Counter()
    both_hold_their_first = threading.Barrier(2)

    @retry.retry_on_conflict(op="test.crossed_locks")
    def crossed(first: str, second: str) -> str:
        with transaction.atomic():
            _lock(tenant.pk, first)
            attempts[first] += 1
            if attempts[first] == 1:
                # Each holds one row and then asks for the other's: PostgreSQL aborts one.
                both_hold_their_first.wait(10)
            _lock(tenant.pk, second)
        return first

    pairs = [("participant:1", "participant:2"), ("participant:2", "participant:1")]
    assert sorted(race(2, lambda i: crossed(*pairs[i]))) == ["participant:1", "participant:2"]
    assert retry.retries == {("test.crossed_locks", "retried"): 1}
    assert sorted(attempts.values()) == [1, 2]


def test_a_first_seen_key_is_made_and_locked_and_a_known_one_costs_one_statement(tenant):
    from django.test.utils import CaptureQueriesContext

    from rewards.models import RewardLock

    holding, done = threading.Event(), threading.Event()

    def first() -> None:
        try:
            with transaction.atomic():
                _lock(tenant.pk, "participant:7")  # no row yet: made, then locked
                holding.set()
                time.sleep(0.5)
        finally:
            done.set()
            connection.close()

    threading.Thread(target=first).start()
    assert holding.wait(10)
    started = time.monotonic()
    with transaction.atomic(), CaptureQueriesContext(connection) as made:
        _lock(tenant.pk, "participant:7")  # made by the first, not yet committed
        waited = time.monotonic() - started
        assert done.is_set() and waited >= 0.3  # it waited for the first to commit
        assert made.captured_queries[-1]["sql"].endswith("FOR UPDATE")  # and holds it
    with transaction.atomic(), CaptureQueriesContext(connection) as known:
        _lock(tenant.pk, "participant:7")
    assert len(known) == 1  # the row is there: one locking read
    assert RewardLock.unscoped.filter(tenant=tenant, key="participant:7").count() == 1
