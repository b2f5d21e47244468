"""Kill test: staged rewards through real Celery workers on a private Redis, with workers
SIGKILLed at random moments and restarted; then Redis itself stopped mid-run.

Afterwards every reward is final, none was fulfilled twice, and the ledger's totals equal
the fulfilled rewards minus clawbacks, per currency. What a killed worker or a lost broker
message left behind is finished by the periodic sweeper, exactly as in production.
Needs PostgreSQL (DATABASE_URL) and a `redis-server` binary; the Redis is our own, on its
own port, never the shared one.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

import pytest
from celery import Celery
from django.db import connection
from django.db.models import Sum

from referral_platform.core.models import AuditEntry
from referral_platform.core.testing import database_url, private_redis_or_skip, require_or_skip
from rewards import ledger
from rewards.models import LedgerEntry, Reward
from rewards.periodic import fulfil_approved, release_due
from rewards.services import reward_clawback
from rewards.tests import factories as f

ROOT = Path(__file__).resolve().parent.parent
N_REWARDS = int(os.environ.get("KILL_TEST_REWARDS", "2000"))
RUN_SECONDS = float(os.environ.get("KILL_TEST_SECONDS", "30"))

pytestmark = [pytest.mark.celery_worker, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def services():
    if connection.vendor != "postgresql":
        require_or_skip("the kill test needs PostgreSQL (set DATABASE_URL)")
    redis_ = private_redis_or_skip()
    redis_.start()
    yield redis_
    redis_.stop()


class Workers:
    def __init__(self, redis_url: str, queue: str):
        self.redis_url, self.queue = redis_url, queue
        self.log_dir = ROOT / "test-artifacts"
        self.log_dir.mkdir(exist_ok=True)
        self.processes: list[subprocess.Popen] = []
        self.kills = 0

    def start(self) -> subprocess.Popen:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "referral_platform.settings.local",
            "DATABASE_URL": database_url(connection.settings_dict),
            "REDIS_URL": self.redis_url,
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "DEBUG": "false",
            "LOG_LEVEL": "WARNING",
        }
        name = f"{self.queue}-{len(self.processes)}"
        out = (self.log_dir / f"kill-{name}.log").open("w")
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "referral_platform", "worker", "-Q", self.queue,
             "-n", f"{name}@%h", "--pool", "solo", "--without-gossip", "--without-mingle",
             "--without-heartbeat", "--loglevel", "WARNING"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
        self.processes.append(process)
        return process

    def alive(self) -> list[subprocess.Popen]:
        return [p for p in self.processes if p.poll() is None]

    def kill_one(self, rng: random.Random) -> None:
        victims = self.alive()
        if victims:
            victim = rng.choice(victims)
            victim.send_signal(signal.SIGKILL)
            victim.wait(10)
            self.kills += 1

    def stop_all(self) -> None:
        for p in self.alive():
            p.send_signal(signal.SIGTERM)
        for p in self.processes:
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                p.kill()


def _stage(tenant, n: int) -> list[int]:
    prog = f.program(tenant)
    referrers = [f.participant(tenant) for _ in range(40)]
    kinds = [
        ("points", None, 300),
        ("coupon", 2500, None),
        ("donation", 5000, None),
        ("coupon", 1999, None),
    ]
    past = f.decision(referrers[0], "x", "x").due_at
    rows = []
    for i in range(n):
        kind, amount, points = kinds[i % len(kinds)]
        rows.append(Reward(
            tenant=tenant, program=prog, participant=referrers[i % len(referrers)], side="referrer",
            scope=f"kill:{i}", reason="stage:kill", rule_key="kill", kind=kind, amount_minor=amount,
            currency="CNY" if amount else "", points=points, status="pending", hold_reason="hold", due_at=past,
        ))  # fmt: skip
    return [r.pk for r in Reward.unscoped.bulk_create(rows)]


def _sweep_until_quiet() -> None:
    for _ in range(20):
        released = release_due()["released"]
        if not released and not fulfil_approved():
            return


def _assert_books_balance(tenant, ids: list[int]) -> None:
    rewards = Reward.unscoped.filter(pk__in=ids)
    assert set(rewards.values_list("status", flat=True)) <= {"fulfilled", "reversed"}
    credits = Counter(
        LedgerEntry.unscoped.filter(reward_id__in=ids, entry_kind="credit").values_list(
            "reward_id", flat=True
        )
    )
    assert max(credits.values()) == 1 and len(credits) == len(ids)
    fulfilled_audits = Counter(
        AuditEntry.unscoped.filter(
            action="reward.fulfilled", target_type="rewards.reward"
        ).values_list("target_id", flat=True)
    )
    assert max(fulfilled_audits.values()) == 1
    for currency in ("CNY",):
        fulfilled_value = (
            rewards.filter(currency=currency).aggregate(s=Sum("amount_minor"))["s"] or 0
        )
        clawed = (
            rewards.filter(currency=currency, status="reversed").aggregate(
                s=Sum("reversed_amount_minor")
            )["s"]
            or 0
        )
        booked = LedgerEntry.unscoped.filter(tenant=tenant, currency=currency).aggregate(
            s=Sum("amount_minor")
        )["s"]
        assert booked == fulfilled_value - clawed
    points = rewards.aggregate(s=Sum("points"))["s"] or 0
    clawed_points = rewards.filter(status="reversed").aggregate(s=Sum("points"))["s"] or 0
    assert (
        LedgerEntry.unscoped.filter(tenant=tenant).aggregate(s=Sum("points"))["s"]
        == points - clawed_points
    )
    assert ledger.verify_ledger(tenant.pk) == []


def test_killed_workers_never_pay_twice_and_lose_nothing(tenant, services):
    rng = random.Random(os.environ.get("KILL_TEST_SEED", "5"))
    ids = _stage(tenant, N_REWARDS)
    queue = f"kill-{uuid.uuid4().hex[:10]}"
    client = Celery("kill-test", broker=services.url, set_as_current=False)
    for reward_id in ids:
        client.send_task("rewards.process", args=[tenant.pk, reward_id], queue=queue)
    workers = Workers(services.url, queue)
    for _ in range(3):
        workers.start()
    unfinished = Reward.unscoped.filter(pk__in=ids, status__in=["pending", "approved"])
    deadline = time.monotonic() + RUN_SECONDS
    try:
        last = unfinished.count()
        # Kill at random moments, but only once the workers made progress since the last
        # kill, so a slow start-up under load cannot turn the test into restarts only.
        while time.monotonic() < deadline and last:
            time.sleep(rng.uniform(1.0, 3.0))
            now_left = unfinished.count()
            if now_left < last:
                workers.kill_one(rng)
                workers.start()
                last = now_left
        # Then let the survivors drain the queue; messages held by killed workers stay
        # unacknowledged until the visibility timeout: the sweeper's work.
        stall = time.monotonic()
        while unfinished.exists() and time.monotonic() - stall < 8:
            before = unfinished.count()
            time.sleep(1)
            if unfinished.count() < before:
                stall = time.monotonic()
    finally:
        workers.stop_all()
    done_by_workers = Reward.unscoped.filter(pk__in=ids, status="fulfilled").count()
    print(f"kills={workers.kills} fulfilled_by_workers={done_by_workers}/{len(ids)}")
    assert workers.kills >= 3 and done_by_workers > 0
    _sweep_until_quiet()
    for reward_id in rng.sample(ids, len(ids) // 20):
        reward_clawback(reward_id=reward_id, reason="kill-test clawback")
        reward_clawback(reward_id=reward_id, reason="kill-test clawback")  # the retry is a no-op
    _assert_books_balance(tenant, ids)


def test_redis_stopped_during_processing_loses_nothing(tenant, services):
    ids = _stage(tenant, 300)
    queue = f"stop-{uuid.uuid4().hex[:10]}"
    client = Celery("stop-test", broker=services.url, set_as_current=False)
    for reward_id in ids:
        client.send_task("rewards.process", args=[tenant.pk, reward_id], queue=queue)
    workers = Workers(services.url, queue)
    workers.start()
    time.sleep(3)
    services.stop()  # every queued message is gone with it (no persistence)
    time.sleep(2)
    services.start()  # same port: the worker reconnects to an empty broker
    time.sleep(2)
    workers.stop_all()
    _sweep_until_quiet()
    _assert_books_balance(tenant, ids)
