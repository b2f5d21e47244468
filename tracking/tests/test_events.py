"""Ingesting events: stored first, once per event_id, processed after commit or by the sweeper."""

import logging
from datetime import timedelta

import pytest
import time_machine

from referral_platform.core import clock
from referral_platform.core.periodic import jobs
from tracking.models import Event, EventStatus, Referral


def signup(event_id="e-1", external_id="new-1", **referral):
    body = {
        "event_id": event_id,
        "type": "signup",
        "occurred_at": "2026-03-01T10:00:00+08:00",
        "participant": {"external_id": external_id, "email": "new1@shop.test"},
    }
    if referral:
        body["referral"] = referral
    return body


def test_an_event_is_stored_and_answered_202(api, tenant):
    response = api.post("/api/v1/events", signup(), format="json")
    assert response.status_code == 202
    event = Event.objects.for_tenant(tenant).get()
    assert response.json() == {"id": event.pk, "event_id": "e-1", "status": "accepted"}
    assert event.type == "signup" and event.external_id == "new-1"


def test_a_retried_event_id_is_a_no_op_with_the_first_answer(api, tenant):
    first = api.post("/api/v1/events", signup(), format="json")
    again = api.post("/api/v1/events", signup(), format="json")
    assert again.status_code == 200
    assert again.json() == first.json()
    assert Event.objects.for_tenant(tenant).count() == 1


def test_the_same_event_id_with_another_body_is_409(api, tenant):
    api.post("/api/v1/events", signup(), format="json")
    response = api.post("/api/v1/events", signup(external_id="someone-else"), format="json")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "event_id_conflict"


def test_an_idempotency_key_reused_with_another_body_is_409(api):
    headers = {"HTTP_IDEMPOTENCY_KEY": "k-1"}
    assert api.post("/api/v1/events", signup("e-1"), format="json", **headers).status_code == 202
    replay = api.post("/api/v1/events", signup("e-1"), format="json", **headers)
    assert replay.status_code == 202
    conflict = api.post("/api/v1/events", signup("e-2"), format="json", **headers)
    assert conflict.status_code == 409
    assert conflict.json()["error"]["code"] == "idempotency_key_conflict"


def test_an_invalid_event_is_422_with_field_paths_and_nothing_is_stored(api, tenant):
    body = {
        "event_id": "e-9",
        "type": "purchased",
        "participant": {},
        "amount": {"amount_minor": "x", "currency": "CNY"},
    }
    response = api.post("/api/v1/events", body, format="json")
    assert response.status_code == 422
    assert set(response.json()["error"]["fields"]) == {
        "type",
        "participant.external_id",
        "amount.amount_minor",
    }
    assert Event.objects.for_tenant(tenant).count() == 0


def test_a_batch_answers_per_index_and_each_event_stands_alone(api, tenant):
    api.post("/api/v1/events", signup("dup"), format="json")
    events = [
        signup("b-1", "p1"),
        {"event_id": "b-2", "type": "nope", "participant": {"external_id": "p2"}},
        signup("dup"),
        signup("b-1", "p1"),
        signup("dup", "other"),
    ]
    response = api.post("/api/v1/events/batch", {"events": events}, format="json")
    assert response.status_code == 202
    results = response.json()["results"]
    assert [r["status"] for r in results] == [
        "accepted",
        "invalid",
        "duplicate",
        "duplicate",
        "invalid",
    ]
    assert results[4]["code"] == "event_id_conflict"
    assert results[1]["fields"] == {"type": ['"nope" is not a valid choice.']}
    assert (
        results[0]["id"]
        == results[3]["id"]
        == Event.objects.for_tenant(tenant).get(event_id="b-1").pk
    )
    assert Event.objects.for_tenant(tenant).count() == 2


def test_a_batch_with_nothing_valid_is_422(api, tenant):
    response = api.post("/api/v1/events/batch", {"events": [{"event_id": "x"}]}, format="json")
    assert response.status_code == 422
    assert "events[0].type" in response.json()["error"]["fields"]
    assert Event.objects.for_tenant(tenant).count() == 0


def test_events_are_processed_on_commit(
    api, tenant, program, alice_code, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        api.post("/api/v1/events", signup(code=alice_code.code), format="json")
    event = Event.objects.for_tenant(tenant).get()
    assert event.status == EventStatus.PROCESSED
    referral = Referral.objects.for_tenant(tenant).get()
    assert (referral.referrer.external_id, referral.referee.external_id, referral.source) == (
        "u-alice",
        "new-1",
        "code",
    )


def _use_broker(app, url: str) -> None:
    app.conf.broker_url = url
    # The app keeps the connection and producer pools of the broker it first used.
    app._pool = app.amqp._producer_pool = None


@pytest.mark.django_db(transaction=True)
def test_an_event_stored_while_the_broker_is_down_is_processed_by_the_sweeper(
    api, tenant, program, alice_code, caplog
):
    from referral_platform.celery import app

    # A real publish to a broker nobody listens on, instead of running the task in-process.
    broker, eager = app.conf.broker_url, app.conf.task_always_eager
    app.conf.task_always_eager = False
    _use_broker(app, "redis://127.0.0.1:1/15")
    try:
        with caplog.at_level(logging.WARNING, logger="referral_platform.core.tasks"):
            response = api.post("/api/v1/events", signup(code=alice_code.code), format="json")
    finally:
        app.conf.task_always_eager = eager
        _use_broker(app, broker)
    assert response.status_code == 202
    assert "task tracking.events_process not enqueued, the broker is unreachable" in caplog.text
    event = Event.objects.for_tenant(tenant).get()
    assert event.status == EventStatus.ACCEPTED
    assert Referral.objects.for_tenant(tenant).count() == 0
    sweep = dict(jobs())["tracking.sweep_events"]
    assert sweep()["processed"] == 0  # inside the grace period the task path goes first
    with time_machine.travel(clock.now() + timedelta(minutes=2)):
        assert sweep() == {"processed": 1, "failed": 0, "skipped": 0}
        assert sweep() == {"processed": 0, "failed": 0, "skipped": 0}
    event.refresh_from_db()
    assert event.status == EventStatus.PROCESSED
    assert Referral.objects.for_tenant(tenant).get().referrer.external_id == "u-alice"


def test_a_claimed_event_is_not_taken_twice(tenant, api):
    from tracking.services import event_claim

    api.post("/api/v1/events", signup(), format="json")
    pk = Event.objects.for_tenant(tenant).get().pk
    assert event_claim(pk) is True
    assert event_claim(pk) is False
    with time_machine.travel(clock.now() + timedelta(minutes=6)):
        assert event_claim(pk) is True


def test_another_tenants_referral_is_404_and_lists_exclude_it(
    api, other_api, tenant, program, alice_code, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        api.post("/api/v1/events", signup(code=alice_code.code), format="json")
    referral = Referral.objects.for_tenant(tenant).get()
    assert api.get(f"/api/v1/referrals/{referral.pk}").status_code == 200
    assert other_api.get(f"/api/v1/referrals/{referral.pk}").status_code == 404
    assert other_api.get("/api/v1/referrals").json() == {"results": [], "next": None}


def test_accepting_an_event_is_one_insert(api, tenant, django_assert_num_queries):
    api.post("/api/v1/events", signup("warm-up"), format="json")
    # The key is cached after the first call and its last use written at most once a
    # minute; processing runs after commit, not here. (The savepoint pair is the test's own
    # transaction around the insert; in production, in autocommit, the INSERT is alone.)
    with django_assert_num_queries(3) as captured:
        assert api.post("/api/v1/events", signup("e-2", "p2"), format="json").status_code == 202
    statements = [q["sql"].split()[0] for q in captured.captured_queries]
    assert statements == ["SAVEPOINT", "INSERT", "RELEASE"]
    assert '"tracking_event"' in captured.captured_queries[1]["sql"]


@pytest.mark.django_db(transaction=True)
def test_in_autocommit_accepting_an_event_is_the_insert_alone(
    api, tenant, django_assert_num_queries, monkeypatch
):
    from pipeline.tasks import events_process_task

    sent = []
    # The worker's side is not the request's: record the enqueue instead of running it.
    monkeypatch.setattr(events_process_task, "delay", lambda *args: sent.append(args))
    from django.db import connection

    api.post("/api/v1/events", signup("warm-up"), format="json")
    # No transaction around the INSERT: atomic() would turn autocommit off and on again,
    # and psycopg2 would send BEGIN and COMMIT as round trips of their own.
    toggles = []
    real_set_autocommit = connection.set_autocommit

    def set_autocommit(*args, **kwargs):
        toggles.append(args)
        return real_set_autocommit(*args, **kwargs)

    monkeypatch.setattr(connection, "set_autocommit", set_autocommit)
    with django_assert_num_queries(1) as captured:
        response = api.post("/api/v1/events", signup("e-2", "p2"), format="json")
    assert response.status_code == 202
    assert captured.captured_queries[0]["sql"].startswith('INSERT INTO "tracking_event"')
    assert toggles == []
    assert sent[-1] == (tenant.pk, [response.json()["id"]])
    # A retry of the same event_id is answered from the first row, not an error.
    again = api.post("/api/v1/events", signup("e-2", "p2"), format="json")
    assert again.status_code == 200
    assert Event.objects.for_tenant(tenant).count() == 2
