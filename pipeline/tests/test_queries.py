"""What processing one event costs in SQL: the bench's sign-up and purchase, pinned."""

from __future__ import annotations

import collections
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from pipeline import flow
from programs.services import program_create
from rewards.models import Reward
from tracking import services as tracking
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


def shape(sql: str) -> str:
    return re.sub(r"\d+", "N", re.sub(r"'[^']*'", "'?'", sql))[:160]


def test_report_queries(tenant, bench_program):
    referrer, _ = tracking.participant_upsert(tenant=tenant, external_id="referrer-0")
    code = tracking.enrollment_create(tenant=tenant, program=bench_program, participant=referrer)[1]
    # A first pair warms what is cached per process, as in a running worker.
    for event in pair(tenant, code.code, 0):
        assert flow.event_process_by_id(event.pk) == "processed"
    signup, purchase = pair(tenant, code.code, 1)
    with CaptureQueriesContext(connection) as s:
        assert flow.event_process_by_id(signup.pk) == "processed"
    with CaptureQueriesContext(connection) as p:
        assert flow.event_process_by_id(purchase.pk) == "processed"
    assert Reward.unscoped.filter(referral__referee__external_id="referee-1").count() == 2
    for name, ctx in (("signup", s), ("purchase", p)):
        print(f"\n== {name}: {len(ctx.captured_queries)} queries")
        for sql, n in collections.Counter(
            shape(q["sql"]) for q in ctx.captured_queries
        ).most_common():
            print(f"{n:3d}  {sql}")
