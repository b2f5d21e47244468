"""A batch becomes small tasks; one participant's events stay together and in order."""

from __future__ import annotations

from datetime import timedelta

import pytest

from pipeline import flow
from rewards.models import Reward
from tracking import services as tracking
from tracking.models import Event
from tracking.services.events import event_chunks

from .test_flow import T0, cash_program, referrer_code  # noqa: F401 - fixtures
from .test_queries import bench_program  # noqa: F401 - fixture


def rows(*spec):
    return [
        Event(pk=pk, external_id=who, occurred_at=T0 + timedelta(minutes=minute))
        for pk, who, minute in spec
    ]


def test_a_batch_is_cut_into_chunks_keeping_each_participants_events_in_order():
    batch = rows(
        (1, "a", 5), (2, "b", 0), (3, "a", 1), (4, "c", 2), (5, "d", 3), (6, "b", 9), (7, "e", 4)
    )  # fmt: skip
    assert event_chunks(batch, size=3) == [[2, 6], [3, 1, 4], [5, 7]]
    # Same time: arrival order. A participant with more events than a chunk stays whole.
    assert event_chunks(rows((9, "a", 0), (8, "a", 0), (7, "a", 0)), size=2) == [[7, 8, 9]]
    assert event_chunks([], size=3) == []


@pytest.mark.django_db(transaction=True)
def test_the_batch_api_enqueues_tasks_of_at_most_the_chunk_size(api, tenant, monkeypatch, settings):
    from pipeline.tasks import events_process_task

    sent = []
    monkeypatch.setattr(events_process_task, "delay", lambda *args: sent.append(args))
    monkeypatch.setattr("tracking.services.events.EVENT_CHUNK", 4)
    events = []
    for i in range(5):
        who = {"external_id": f"p{i}"}
        events.append({"event_id": f"s{i}", "type": "signup", "participant": who,
                       "occurred_at": T0.isoformat()})  # fmt: skip
        events.append({"event_id": f"b{i}", "type": "purchase", "participant": who,
                       "order_id": f"o{i}", "occurred_at": (T0 + timedelta(hours=1)).isoformat(),
                       "amount": {"amount_minor": 100, "currency": "CNY"}})  # fmt: skip
    response = api.post("/api/v1/events/batch", {"events": events}, format="json")
    assert response.status_code in (200, 202, 207)
    ids = {r["index"]: r["id"] for r in response.json()["results"]}
    assert [len(chunk) for _, chunk in sent] == [4, 4, 2]
    assert {tenant_id for tenant_id, _ in sent} == {tenant.pk}
    # Each participant's sign-up comes right before their purchase, in the same task.
    assert [chunk for _, chunk in sent] == [
        [ids[0], ids[1], ids[2], ids[3]],
        [ids[4], ids[5], ids[6], ids[7]],
        [ids[8], ids[9]],
    ]


def test_a_purchase_processed_before_the_referral_exists_is_paid_once_it_is_created(
    tenant,
    referrer_code,  # noqa: F811
):
    def ingest(event_id, type_, at, **extra):
        payload = {"event_id": event_id, "type": type_, "occurred_at": at.isoformat(),
                   "participant": {"external_id": "bo", "email": "bo@mail.test"}, **extra}  # fmt: skip
        return tracking.event_ingest(tenant=tenant, data={**payload, "occurred_at": at},
                                     payload=payload)[0]  # fmt: skip

    signup = ingest("s", "signup", T0, referral={"code": referrer_code.code})
    purchase = ingest("b", "purchase", T0 + timedelta(minutes=30), order_id="o1",
                      amount={"amount_minor": 15000, "currency": "CNY"})  # fmt: skip
    # Another task took the purchase first: nobody referred Bo yet, so nothing is paid.
    assert flow.event_process_by_id(purchase.pk) == "processed"
    assert not Reward.unscoped.filter(tenant=tenant).exists()
    assert flow.event_process_by_id(signup.pk) == "processed"
    reward = Reward.unscoped.get(tenant=tenant)
    assert (reward.side, reward.amount_minor, reward.rule_key) == ("referrer", 5000, "paid_cash")
    assert reward.referral.referee.external_id == "bo"
