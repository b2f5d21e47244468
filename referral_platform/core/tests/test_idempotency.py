"""`Idempotency-Key` on any POST (API.md): replay, conflict, and the claim that keeps two
concurrent retries from both acting."""

import threading
from datetime import timedelta

import pytest
import time_machine
from django.db import connection, connections

from programs.models import Program
from programs.templates_data import blank_spec
from referral_platform.core import clock
from referral_platform.core.models import IdempotencyRecord
from referral_platform.core.testing import require_or_skip

pytestmark = pytest.mark.django_db


def _post(api, key, slug="friends"):
    return api.post(
        "/api/v1/programs", blank_spec(slug=slug), format="json", HTTP_IDEMPOTENCY_KEY=key
    )


def test_the_same_key_replays_the_first_answer_and_another_body_conflicts(api, tenant):
    first = _post(api, "k1")
    again = _post(api, "k1")
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    other = _post(api, "k1", slug="other")
    assert other.status_code == 409
    assert other.json()["error"]["code"] == "idempotency_key_conflict"
    assert Program.objects.for_tenant(tenant).count() == 1


def test_a_key_whose_request_is_still_running_is_refused_not_run_twice(api, tenant):
    _post(api, "k1")
    IdempotencyRecord.objects.for_tenant(tenant).update(status_code=None, response_body=None)
    response = _post(api, "k1")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "idempotency_key_in_progress"
    assert Program.objects.for_tenant(tenant).count() == 1


def test_an_abandoned_claim_is_taken_over(api, tenant):
    with time_machine.travel(clock.now() - timedelta(minutes=10)):
        IdempotencyRecord.objects.for_tenant(tenant).create(
            tenant=tenant, key="k1", path="/api/v1/programs", body_hash="x", status_code=None
        )
    response = _post(api, "k1")
    assert response.status_code == 201
    record = IdempotencyRecord.objects.for_tenant(tenant).get()
    assert record.status_code == 201 and record.response_body["slug"] == "friends"


def test_a_failed_request_lets_go_of_its_key(api, tenant, monkeypatch):
    from programs import services

    def broken(**kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(services, "program_create", broken)
    with pytest.raises(RuntimeError):
        _post(api, "k1")
    assert not IdempotencyRecord.objects.for_tenant(tenant).exists()
    monkeypatch.undo()
    assert _post(api, "k1").status_code == 201


@pytest.mark.django_db(transaction=True)
def test_concurrent_retries_with_one_key_act_once(tenant, api_key):
    if connection.vendor != "postgresql":
        require_or_skip("concurrent requests need PostgreSQL (set DATABASE_URL)")
    from rest_framework.test import APIClient

    from programs import services

    original = services.program_create
    entered = threading.Event()
    release = threading.Event()

    def slow(**kwargs):
        entered.set()
        release.wait(10)
        return original(**kwargs)

    services.program_create = slow
    statuses = []

    def first():
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key}")
        try:
            statuses.append(_post(client, "k1").status_code)
        finally:
            connections.close_all()

    try:
        thread = threading.Thread(target=first)
        thread.start()
        assert entered.wait(10)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key}")
        second = _post(client, "k1")
        release.set()
        thread.join(10)
    finally:
        services.program_create = original
    assert (statuses, second.status_code) == ([201], 409)
    assert second.json()["error"]["code"] == "idempotency_key_in_progress"
    assert Program.objects.for_tenant(tenant).count() == 1
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key}")
    assert _post(client, "k1").status_code == 201
