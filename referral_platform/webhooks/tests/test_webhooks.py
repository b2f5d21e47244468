import json
import random
from datetime import timedelta

import pytest
import time_machine
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from referral_platform.core import clock
from referral_platform.core.periodic import run_all
from referral_platform.webhooks.models import (
    DeliveryStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from referral_platform.webhooks.services import (
    RETRY_SCHEDULE,
    retry_delay,
    webhook_delivery_replay,
    webhook_emit,
    webhook_endpoint_create,
)
from referral_platform.webhooks.tests.conftest import emit as _emit


def test_registering_an_endpoint_returns_its_id_and_a_whsec_secret(api, tenant, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE = True
    response = api.post(
        "/api/v1/webhook-endpoints",
        {"url": "https://hooks.example.test/x", "events": ["reward.approved"]},
        format="json",
    )
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"id", "secret"}
    assert body["secret"].startswith("whsec_")
    endpoint = WebhookEndpoint.objects.for_tenant(tenant).get(pk=body["id"])
    assert endpoint.events == ["reward.approved"] and endpoint.secret == body["secret"]


def test_an_endpoint_on_loopback_is_refused_at_registration(api, tenant):
    response = api.post(
        "/api/v1/webhook-endpoints",
        {"url": "http://127.0.0.1:8080/hook", "events": []},
        format="json",
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "url_not_public"
    assert "url" in response.json()["error"]["fields"]
    assert not WebhookEndpoint.objects.for_tenant(tenant).exists()


@pytest.mark.parametrize(
    "url",
    [
        "http://10.1.2.3/",
        "http://192.168.0.1/",
        "http://169.254.169.254/latest",
        "http://100.64.0.1/",
        "http://[::1]/",
    ],
)
def test_private_link_local_and_cgnat_addresses_are_refused(tenant, url):
    from referral_platform.core.errors import ValidationFailed

    with pytest.raises(ValidationFailed):
        webhook_endpoint_create(tenant=tenant, url=url, events=[])


def test_an_unknown_event_type_is_a_field_error(api):
    response = api.post(
        "/api/v1/webhook-endpoints",
        {"url": "https://hooks.example.test/", "events": ["nope"]},
        format="json",
    )
    assert response.status_code == 422
    assert (
        "events[0]" in response.json()["error"]["fields"]
        or "events" in response.json()["error"]["fields"]
    )


def test_the_delivery_is_signed_so_standardwebhooks_verifies_it_and_a_tampered_body_fails(
    tenant, receiver, django_capture_on_commit_callbacks
):
    endpoint = webhook_endpoint_create(tenant=tenant, url=receiver.url, events=["reward.approved"])
    message = _emit(
        tenant,
        django_capture_on_commit_callbacks,
        data={"reward": {"id": 42, "status": "approved"}},
    )
    assert len(receiver.requests) == 1
    headers, body = receiver.requests[0]
    verified = Webhook(endpoint.secret).verify(body, headers)
    assert verified["id"] == message.msg_id and headers["webhook-id"] == message.msg_id
    assert verified["type"] == "reward.approved"
    assert verified["data"] == {"reward": {"id": 42, "status": "approved"}}
    with pytest.raises(WebhookVerificationError):
        Webhook(endpoint.secret).verify(body.replace("42", "43"), headers)
    delivery = WebhookDelivery.objects.for_tenant(tenant).get()
    assert delivery.status == DeliveryStatus.SUCCEEDED and delivery.attempts == 1
    attempt = WebhookAttempt.objects.for_tenant(tenant).get()
    assert (
        attempt.response_status == 200 and json.loads(attempt.request_body)["id"] == message.msg_id
    )


def test_only_subscribed_active_endpoints_of_the_same_tenant_receive_the_event(
    tenant, other_tenant, receiver, django_capture_on_commit_callbacks
):
    webhook_endpoint_create(tenant=tenant, url=receiver.url, events=["payout.requested"])
    webhook_endpoint_create(tenant=other_tenant, url=receiver.url, events=[])
    assert _emit(tenant, django_capture_on_commit_callbacks, type="reward.approved") is None
    assert receiver.requests == []


def test_nothing_is_sent_when_the_callers_transaction_rolls_back(
    tenant, receiver, django_capture_on_commit_callbacks
):
    from django.db import transaction

    webhook_endpoint_create(tenant=tenant, url=receiver.url, events=[])
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        webhook_emit(tenant=tenant, type="reward.approved", data={})
        raise RuntimeError("the change failed")
    assert receiver.requests == []
    assert not WebhookDelivery.objects.for_tenant(tenant).exists()


def test_a_500_is_retried_on_the_backoff_schedule_until_it_succeeds(
    tenant, receiver, django_capture_on_commit_callbacks
):
    webhook_endpoint_create(tenant=tenant, url=receiver.url, events=[])
    receiver.statuses = [500, 503]
    with time_machine.travel("2026-03-02 10:00:00Z", tick=False):
        _emit(tenant, django_capture_on_commit_callbacks)
        delivery = WebhookDelivery.objects.for_tenant(tenant).get()
        assert delivery.status == DeliveryStatus.PENDING and delivery.attempts == 1
        wait = delivery.next_attempt_at - clock.now()
        assert timedelta(seconds=4.5) <= wait <= timedelta(seconds=5.5)
        run_all()  # not due yet
        assert len(receiver.requests) == 1
    with time_machine.travel("2026-03-02 10:00:06Z", tick=False):
        run_all()
        delivery.refresh_from_db()
        assert delivery.attempts == 2 and delivery.last_status_code == 503
        wait = delivery.next_attempt_at - clock.now()
        assert timedelta(minutes=4.5) <= wait <= timedelta(minutes=5.5)
    with time_machine.travel("2026-03-02 10:06:00Z", tick=False):
        run_all()
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SUCCEEDED and delivery.attempts == 3
    assert len({h["webhook-id"] for h, _ in receiver.requests}) == 1


def test_the_retry_schedule_spans_about_three_days_and_then_gives_up():
    total = sum(
        (retry_delay(n, random.Random(1)) for n in range(1, len(RETRY_SCHEDULE) + 1)), timedelta()
    )
    assert timedelta(days=2.7) <= total <= timedelta(days=3.3)
    assert retry_delay(len(RETRY_SCHEDULE) + 1) is None


def test_a_410_disables_the_endpoint(tenant, receiver, django_capture_on_commit_callbacks):
    endpoint = webhook_endpoint_create(tenant=tenant, url=receiver.url, events=[])
    receiver.statuses = [410]
    _emit(tenant, django_capture_on_commit_callbacks)
    endpoint.refresh_from_db()
    assert endpoint.is_active is False and endpoint.disabled_reason == "410 Gone"
    assert WebhookDelivery.objects.for_tenant(tenant).get().status == DeliveryStatus.FAILED
    assert _emit(tenant, django_capture_on_commit_callbacks) is None
    assert len(receiver.requests) == 1


def test_a_redirect_is_not_followed_and_counts_as_a_failure(
    tenant, receiver, django_capture_on_commit_callbacks
):
    webhook_endpoint_create(tenant=tenant, url=receiver.url, events=[])
    receiver.statuses = [302]
    _emit(tenant, django_capture_on_commit_callbacks)
    delivery = WebhookDelivery.objects.for_tenant(tenant).get()
    assert delivery.status == DeliveryStatus.PENDING and delivery.last_status_code == 302
    assert len(receiver.requests) == 1


def test_a_loopback_endpoint_is_refused_at_send_time_too(
    tenant, receiver, settings, django_capture_on_commit_callbacks
):
    webhook_endpoint_create(tenant=tenant, url=receiver.url, events=[])
    settings.WEBHOOKS_ALLOW_PRIVATE = False
    _emit(tenant, django_capture_on_commit_callbacks)
    assert receiver.requests == []
    attempt = WebhookAttempt.objects.for_tenant(tenant).get()
    assert attempt.response_status is None and "non-public" in attempt.error


def test_replay_sends_the_same_message_again_with_the_same_webhook_id(
    tenant, receiver, django_capture_on_commit_callbacks
):
    webhook_endpoint_create(tenant=tenant, url=receiver.url, events=[])
    _emit(tenant, django_capture_on_commit_callbacks)
    delivery = WebhookDelivery.objects.for_tenant(tenant).get()
    with django_capture_on_commit_callbacks(execute=True):
        webhook_delivery_replay(delivery=delivery)
    assert len(receiver.requests) == 2
    assert receiver.requests[0][0]["webhook-id"] == receiver.requests[1][0]["webhook-id"]
    assert WebhookAttempt.objects.for_tenant(tenant).count() == 2
