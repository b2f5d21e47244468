"""Redis stopped during processing: nothing is lost, and the sweeper finishes the work once
Redis is back (DESIGN "The flow of one referral", step 3).

Production shape: PostgreSQL, a private `redis-server` as broker *and* cache, a real
`celery worker` on it, the API called in this process. While Redis is down the API still
answers 202 and stores every event (the rate limiter's counters are unreachable too, and the
failed enqueue is logged, not raised), and a `tick`
run meanwhile processes what it can without raising on the webhook and e-mail enqueues it
cannot make. Redis comes back empty (no persistence): the sweeper and the worker finish,
every event is processed once and the exact rewards exist once each, with one ledger
credit each, and every webhook message reached the receiver.
Needs PostgreSQL (DATABASE_URL) and a `redis-server` binary; the Redis is our own, on its
own port, never the shared one.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
from collections import Counter
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import StringIO
from pathlib import Path

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection
from django.test import override_settings

from programs.services import program_create
from referral_platform.celery import app
from referral_platform.core import clock
from referral_platform.core.testing import (
    database_url,
    drop_broker_connections,
    private_redis_or_skip,
    require_or_skip,
    wait_for,
)
from referral_platform.webhooks.models import WebhookDelivery, WebhookMessage
from referral_platform.webhooks.services import webhook_endpoint_create
from rewards import ledger
from rewards.models import LedgerEntry, Reward
from tracking.models import Event
from tracking.services import enrollment_create, participant_upsert

ROOT = Path(__file__).resolve().parent.parent
T0 = datetime.fromisoformat("2026-04-06T02:00:00+00:00")  # a Monday, 10:00 in Shanghai

pytestmark = [pytest.mark.celery_worker, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

SPEC = {
    "spec_version": 1,
    "slug": "outage",
    "name": "Outage",
    "status": "active",
    "starts_at": "2026-01-01T00:00:00+08:00",
    "currency": "CNY",
    "stages": [
        {
            "key": "joined",
            "label": "Sign-up",
            "status": None,
            "condition": {"event": "signup"},
            "rewards": [{"key": "welcome", "side": "referee", "kind": "points", "points": 100}],
        },
        {
            "key": "paid",
            "label": "First order",
            "status": "converted",
            "success": True,
            "condition": {"event": "purchase", "min_amount": 9900},
            "rewards": [{"key": "thanks", "side": "referrer", "kind": "points", "points": 300}],
        },
    ],
}


class Receiver(BaseHTTPRequestHandler):
    received: Counter = Counter()

    def do_POST(self):  # noqa: N802 — the name http.server calls
        self.rfile.read(int(self.headers.get("content-length") or 0))
        Receiver.received[self.headers["webhook-id"]] += 1
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def redis_():
    if connection.vendor != "postgresql":
        require_or_skip("the outage test runs a worker process, which needs PostgreSQL")
    server = private_redis_or_skip()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def receiver():
    Receiver.received = Counter()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook"
    server.shutdown()


@pytest.fixture
def production_shape(redis_):
    """This process publishes to the private Redis and uses it as its cache, as web does."""
    caches = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": redis_.url,
            "KEY_PREFIX": "outage",
        }
    }
    saved = {key: app.conf[key] for key in ("broker_url", "task_always_eager")}
    app.conf.update(broker_url=redis_.url, task_always_eager=False)
    drop_broker_connections(app)
    with override_settings(
        CACHES=caches, CELERY_TASK_ALWAYS_EAGER=False, WEBHOOKS_ALLOW_PRIVATE=True
    ):
        yield redis_
    app.conf.update(saved)
    drop_broker_connections(app)


@pytest.fixture
def worker(production_shape):
    log = ROOT / "test-artifacts" / "redis-outage-worker.log"
    log.parent.mkdir(exist_ok=True)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "referral_platform.settings.local",
        "DATABASE_URL": database_url(connection.settings_dict),
        "REDIS_URL": production_shape.url,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "WEBHOOKS_ALLOW_PRIVATE": "true",
        "DEBUG": "false",
        "LOG_LEVEL": "WARNING",
    }
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "referral_platform", "worker", "--pool", "solo",
             "--without-gossip", "--without-mingle", "--without-heartbeat", "--loglevel", "WARNING"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
        yield process
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


def _post(api, event_id, type_, who, at, **extra):
    body = {
        "event_id": event_id,
        "type": type_,
        "occurred_at": at.isoformat(),
        "participant": {"external_id": who, "email": f"{who}@{who}.example"},
        **extra,
    }
    return api.post("/api/v1/events", body, format="json")


def _refer(api, code, friend, at, *, buys: bool):
    """A friend signs up with `code` (and buys an hour later): every answer is 202."""
    answers = [_post(api, f"{friend}-signup", "signup", friend, at, referral={"code": code})]
    if buys:
        answers.append(
            _post(
                api,
                f"{friend}-buy",
                "purchase",
                friend,
                at + timedelta(hours=1),
                order_id=f"o-{friend}",
                amount={"amount_minor": 12000, "currency": "CNY"},
            )
        )
    assert [a.status_code for a in answers] == [202] * len(answers), [a.content for a in answers]


def _tick():
    # Two minutes on: the event sweeper leaves fresh events to their task for 30 s.
    with time_machine.travel(clock.now() + timedelta(minutes=2), tick=False):
        call_command("tick", stdout=StringIO())


def _not_enqueued(caplog) -> Counter:
    return Counter(
        r.args[0]
        for r in caplog.records
        if r.getMessage().startswith("task ") and "not enqueued" in r.getMessage()
    )


def test_events_posted_while_redis_is_down_are_kept_and_processed_once_when_it_is_back(
    tenant, owner, api, receiver, worker, production_shape, caplog
):
    redis_ = production_shape
    program = program_create(tenant=tenant, spec=SPEC, actor=owner)
    codes = []
    for name in ("ann", "bob"):
        person, _ = participant_upsert(
            tenant=tenant, external_id=name, email=f"{name}@{name}.example"
        )
        codes.append(enrollment_create(tenant=tenant, program=program, participant=person)[1].code)
    webhook_endpoint_create(tenant=tenant, url=receiver, events=["referral.created"])
    events = Event.objects.for_tenant(tenant)

    # Redis up: the worker processes what the API enqueues.
    _refer(api, codes[0], "f1", T0, buys=True)
    _refer(api, codes[1], "f2", T0, buys=False)
    assert wait_for(lambda: not events.exclude(status="processed").exists())

    # Redis down: the API still answers and stores; the failed enqueues are only logged.
    redis_.stop()
    caplog.set_level(logging.WARNING)
    _refer(api, codes[0], "f3", T0 + timedelta(days=1), buys=True)
    _refer(api, codes[1], "f4", T0 + timedelta(days=1), buys=True)
    retry = _post(
        api, "f4-signup", "signup", "f4", T0 + timedelta(days=1), referral={"code": codes[1]}
    )
    assert retry.status_code == 200
    assert events.filter(status="accepted").count() == 4
    assert _not_enqueued(caplog) == Counter({"tracking.events_process": 4})
    # A tick meanwhile (cron needs no broker) processes them; the webhook and e-mail enqueues
    # it cannot make are logged, and the webhook sweep sends the deliveries itself.
    caplog.clear()
    _tick()
    assert not events.exclude(status="processed").exists()
    assert set(_not_enqueued(caplog)) == {
        "webhooks.deliver",
        "rewards.notify",
        "rewards.notify_referrals",  # the referrer emails of a chunk, one task
    }

    # More events while still down: stored, not processed.
    _refer(api, codes[0], "f5", T0 + timedelta(days=2), buys=True)
    _refer(api, codes[1], "f6", T0 + timedelta(days=2), buys=False)
    assert events.filter(status="accepted").count() == 3

    # Redis back, empty: the sweeper finds what the broker lost, the worker sends webhooks.
    redis_.start()
    _tick()
    assert events.count() == 10 and not events.exclude(status="processed").exists()
    deliveries = WebhookDelivery.objects.for_tenant(tenant)
    assert wait_for(lambda: not deliveries.exclude(status="succeeded").exists())

    rewards = Reward.objects.for_tenant(tenant).select_related("participant")
    assert sorted((r.participant.external_id, r.reason, r.status) for r in rewards) == sorted(
        [(friend, "stage:welcome", "fulfilled") for friend in ("f1", "f2", "f3", "f4", "f5", "f6")]
        + [("ann", "stage:thanks", "fulfilled")] * 3
        + [("bob", "stage:thanks", "fulfilled")]
    )
    credits = Counter(LedgerEntry.objects.for_tenant(tenant).values_list("reward_id", "entry_kind"))
    assert credits == Counter({(r.pk, "credit"): 1 for r in rewards})
    balances = {
        p: ledger.balances(tenant.pk, ledger.participant_account(p.pk))
        for p in {r.participant for r in rewards}
    }
    assert {p.external_id: b for p, b in balances.items()} == {
        "ann": {"points": 900},
        "bob": {"points": 300},
        **{friend: {"points": 100} for friend in ("f1", "f2", "f3", "f4", "f5", "f6")},
    }
    assert ledger.verify_ledger(tenant.pk) == []
    messages = set(WebhookMessage.objects.for_tenant(tenant).values_list("msg_id", flat=True))
    assert set(Receiver.received) == messages
    assert len(messages) == 6
