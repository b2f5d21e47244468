"""A worker SIGKILLed inside an event leaves a claim that lapses: the event sweep, on beat's
schedule, takes it again and processes it exactly once, within a minute of the kill.

A real `celery worker` (solo pool) on a private queue takes the event's task; the test holds
the referee's row locked from another connection so the worker is caught inside the event
(claim taken, transaction open), kills it with SIGKILL, lets the row go and runs the event
sweep every `EVENTS_SWEEP_SECONDS`, as beat does. Needs PostgreSQL (DATABASE_URL) and
Redis (REDIS_URL).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import datetime
from pathlib import Path
from unittest import mock

import psycopg2
import pytest
from celery import Celery
from django.conf import settings
from django.db import connection

from fraud.models import Assessment
from pipeline import jobs
from programs.services import program_create
from referral_platform.core.models import AuditEntry
from referral_platform.core.testing import database_url, redis_url_or_skip, require_or_skip
from tracking import services as tracking
from tracking.models import Event, Referral
from tracking.tests.conftest import make_spec

ROOT = Path(__file__).resolve().parent.parent

pytestmark = [pytest.mark.celery_worker, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def _worker(redis_url: str, queue: str) -> subprocess.Popen:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "referral_platform.settings.local",
        "DATABASE_URL": database_url(connection.settings_dict),
        "REDIS_URL": redis_url,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "DEBUG": "false",
        "LOG_LEVEL": "WARNING",
    }
    log = ROOT / "test-artifacts" / f"kill-claims-{queue}.log"
    log.parent.mkdir(exist_ok=True)
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "referral_platform", "worker", "-Q", queue,
         "-n", f"{queue}@%h", "--pool", "solo", "--without-gossip", "--without-mingle",
         "--without-heartbeat", "--loglevel", "WARNING"],
        cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT,
    )  # fmt: skip


def _wait(condition, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.2)


def test_an_event_of_a_killed_worker_is_processed_once_within_a_minute(tenant):
    if connection.vendor != "postgresql":
        require_or_skip("the claim test needs PostgreSQL (set DATABASE_URL)")
    redis_url = redis_url_or_skip()
    spec = make_spec()
    spec["starts_at"] = "2026-01-01T00:00:00+08:00"
    program = program_create(tenant=tenant, spec=spec, actor=None)
    referrer, _ = tracking.participant_upsert(tenant=tenant, external_id="referrer")
    code = tracking.enrollment_create(tenant=tenant, program=program, participant=referrer)[1]
    referee, _ = tracking.participant_upsert(tenant=tenant, external_id="referee")
    payload = {"event_id": "signup-1", "type": "signup",
               "occurred_at": "2026-03-03T09:30:00+08:00",
               "participant": {"external_id": "referee"}, "referral": {"code": code.code}}  # fmt: skip
    data = {**payload, "occurred_at": datetime.fromisoformat(payload["occurred_at"])}
    with mock.patch("tracking.services.events._enqueue"):  # delivered below, to our worker
        event = tracking.event_ingest(tenant=tenant, data=data, payload=payload)[0]

    # Another transaction holds the referee's row: the worker stops inside the event.
    holder = psycopg2.connect(database_url(connection.settings_dict))
    cursor = holder.cursor()
    cursor.execute("SELECT id FROM tracking_participant WHERE id = %s FOR UPDATE", [referee.pk])
    queue = f"claims-{uuid.uuid4().hex[:10]}"
    worker = _worker(redis_url, queue)
    try:
        client = Celery("claims-test", broker=redis_url, set_as_current=False)
        client.send_task("tracking.events_process", args=[tenant.pk, [event.pk]], queue=queue)

        def caught() -> bool:
            cursor.execute("SELECT count(*) FROM pg_locks WHERE NOT granted")
            return cursor.fetchone()[0] > 0

        _wait(caught, 60, "the worker to wait inside the event")
        event.refresh_from_db()
        assert event.claimed_until is not None and event.status == "accepted"
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
        killed_at = time.monotonic()
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait(10)
        holder.rollback()
        holder.close()

    # What beat does: the event sweep on its own schedule.
    every = settings.CELERY_BEAT_SCHEDULE["sweep-events"]["schedule"]
    assert every <= 15
    while time.monotonic() - killed_at < 60:
        jobs.events_sweep()
        event.refresh_from_db()
        if event.status == "processed":
            break
        time.sleep(min(every, max(0.0, 60 - (time.monotonic() - killed_at))))
    taken_after = time.monotonic() - killed_at
    print(f"processed {taken_after:.1f} s after the kill")
    assert event.status == "processed", f"still {event.status} {taken_after:.0f} s after the kill"
    assert taken_after < 60
    # Exactly once: one referral, one sign-up assessment, one creation audit, no failure.
    referral = Referral.unscoped.get(tenant=tenant, referee=referee)
    assert referral.referrer_id == referrer.pk
    assert Assessment.unscoped.filter(referral=referral, stage_key="signup").count() == 1
    created = AuditEntry.unscoped.filter(action="referral.created", target_id=str(referral.pk))
    assert created.count() == 1
    assert (event.attempts, event.error) == (0, "")
    assert Event.unscoped.filter(tenant=tenant, status="processed").count() == 1
