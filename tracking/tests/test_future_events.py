"""Events dated in the future (a tenant's clock running ahead): refused beyond a small
tolerance, otherwise stored at once and processed when their time comes."""

from datetime import timedelta

import time_machine

from referral_platform.core import clock
from referral_platform.core.periodic import jobs
from tracking.models import Event, EventStatus, Referral


def _event(event_id, type_, occurred_at, **extra):
    return {
        "event_id": event_id,
        "type": type_,
        "occurred_at": occurred_at.isoformat(),
        "participant": {"external_id": "new-1", "email": "new1@example.net"},
        **extra,
    }


def _purchase(event_id, occurred_at):
    amount = {"amount_minor": 15000, "currency": "CNY"}
    return _event(event_id, "purchase", occurred_at, amount=amount)


def test_a_purchase_dated_a_little_ahead_is_processed_by_the_sweeper_when_its_time_comes(
    api, tenant, program, alice_code, django_capture_on_commit_callbacks
):
    now = clock.now()
    with django_capture_on_commit_callbacks(execute=True):
        signup = _event(
            "s-1", "signup", now - timedelta(minutes=5), referral={"code": alice_code.code}
        )
        assert api.post("/api/v1/events", signup, format="json").status_code == 202
        ahead = now + timedelta(minutes=3)
        response = api.post("/api/v1/events", _purchase("p-1", ahead), format="json")
    assert response.status_code == 202
    purchase = Event.objects.for_tenant(tenant).get(event_id="p-1")
    referral = Referral.objects.for_tenant(tenant).get()
    # Not processed early: the rules only see events that have happened.
    assert (purchase.status, purchase.occurred_at, referral.status) == (
        EventStatus.ACCEPTED,
        ahead,
        "pending",
    )
    sweep = dict(jobs())["tracking.sweep_events"]
    with time_machine.travel(now + timedelta(minutes=2)):
        assert sweep() == {"processed": 0, "failed": 0, "skipped": 0}
    with time_machine.travel(now + timedelta(minutes=4)):
        assert sweep() == {"processed": 1, "failed": 0, "skipped": 0}
    purchase.refresh_from_db()
    referral.refresh_from_db()
    assert purchase.status == EventStatus.PROCESSED
    assert (referral.status, referral.status_changed_at) == ("converted", ahead)


def test_an_event_dated_beyond_the_tolerance_is_refused_422_and_not_stored(api, tenant):
    far = clock.now() + timedelta(minutes=6)
    response = api.post("/api/v1/events", _purchase("p-far", far), format="json")
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "validation_failed"
    assert error["fields"] == {
        "occurred_at": ["Is in the future: more than 5 minutes ahead of our clock."]
    }
    assert Event.objects.for_tenant(tenant).count() == 0


def test_in_a_batch_the_far_future_event_is_invalid_and_the_near_one_waits_for_its_time(
    api, tenant, django_capture_on_commit_callbacks
):
    now = clock.now()
    events = [
        _purchase("b-past", now - timedelta(hours=1)),
        _purchase("b-soon", now + timedelta(minutes=2)),
        _purchase("b-far", now + timedelta(days=1)),
    ]
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post("/api/v1/events/batch", {"events": events}, format="json")
    assert response.status_code == 202
    results = response.json()["results"]
    assert [r["status"] for r in results] == ["accepted", "accepted", "invalid"]
    assert results[2]["fields"] == {
        "occurred_at": ["Is in the future: more than 5 minutes ahead of our clock."]
    }
    stored = Event.objects.for_tenant(tenant).order_by("event_id").values_list("event_id", "status")
    assert list(stored) == [("b-past", EventStatus.PROCESSED), ("b-soon", EventStatus.ACCEPTED)]
    with time_machine.travel(now + timedelta(minutes=3)):
        assert dict(jobs())["tracking.sweep_events"]()["processed"] == 1
    assert Event.objects.for_tenant(tenant).get(event_id="b-soon").status == EventStatus.PROCESSED
