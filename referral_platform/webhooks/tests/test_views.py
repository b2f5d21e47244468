"""Staff pages for webhooks: endpoints, the secret shown once, SSRF refusal, the delivery
log with replay, owner-only changes, another tenant's rows as 404."""

from __future__ import annotations

import json
import re

import pytest
from django.test import Client

from referral_platform.core.models import AuditEntry
from referral_platform.webhooks.models import (
    DeliveryStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from referral_platform.webhooks.services import (
    webhook_emit,
    webhook_endpoint_create,
    webhook_endpoint_set_active,
)
from referral_platform.webhooks.tests.conftest import emit as _emit

pytestmark = pytest.mark.django_db

NOT_PUBLIC = "The URL resolves to a private, loopback or otherwise non-public address."


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _text(response) -> str:
    return response.content.decode()


def test_every_role_reads_the_endpoints_with_their_state_and_last_delivery(
    tenant, analyst, receiver, django_capture_on_commit_callbacks
):
    webhook_endpoint_create(
        tenant=tenant, url=receiver.url, events=["reward.approved"], description="Shop backend"
    )
    receiver.statuses = [200, 410]
    _emit(tenant, django_capture_on_commit_callbacks)
    _emit(tenant, django_capture_on_commit_callbacks)
    webhook_endpoint_create(tenant=tenant, url=receiver.url + "/quiet", events=[])

    response = login(analyst).get("/app/settings/webhooks/")
    assert response.status_code == 200
    rows = re.findall(r"<tr data-endpoint=.*?</tr>", _text(response), re.S)
    assert len(rows) == 2
    # Enabled first: the quiet endpoint, subscribed to every type, never sent to.
    quiet, gone = (re.sub(r"<[^>]+>|\s+", " ", r).split() for r in rows)
    assert quiet == [receiver.url + "/quiet", "All", "types", "Enabled", "none", "yet"]
    assert gone[:9] == [
        receiver.url,
        "Shop",
        "backend",
        "reward.approved",
        "Disabled",
        "the",
        "receiver",
        "answered",
        "410",
    ]
    assert gone[gone.index("Failed") + 1] == "410"
    assert "Add endpoint" not in _text(response)


def test_the_owner_adds_an_endpoint_and_sees_its_secret_only_once(tenant, owner, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE = True
    client = login(owner)
    assert client.get("/app/settings/webhooks/new/").status_code == 200
    response = client.post(
        "/app/settings/webhooks/new/",
        {
            "url": "https://hooks.example.com/referrals",
            "events": ["reward.fulfilled", "payout.requested"],
            "description": "Payouts",
        },
    )
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    shown = re.search(r'id="new-webhook-secret" value="([^"]+)"', _text(response)).group(1)
    endpoint = WebhookEndpoint.objects.for_tenant(tenant).get()
    assert (endpoint.url, endpoint.events, endpoint.description, endpoint.is_active) == (
        "https://hooks.example.com/referrals",
        ["reward.fulfilled", "payout.requested"],
        "Payouts",
        True,
    )
    # Stored as the signing key it is (HMAC needs it), shown here and nowhere else.
    assert shown.startswith("whsec_") and shown == endpoint.secret
    assert shown not in _text(client.get("/app/settings/webhooks/"))
    assert shown not in _text(client.get(f"/app/settings/webhooks/{endpoint.pk}/"))
    entry = AuditEntry.objects.for_tenant(tenant).get(action="webhook_endpoint.created")
    assert (entry.actor, entry.target_id, entry.ip_address) == (
        owner,
        str(endpoint.pk),
        "127.0.0.1",
    )
    assert entry.data == {
        "url": "https://hooks.example.com/referrals",
        "events": ["reward.fulfilled", "payout.requested"],
    }


def test_a_loopback_url_is_refused_with_the_netguard_message_and_nothing_is_written(tenant, owner):
    response = login(owner).post(
        "/app/settings/webhooks/new/",
        {"url": "http://127.0.0.1:8080/hook", "events": ["reward.approved"]},
    )
    assert response.status_code == 200
    errors = re.findall(r'<div class="invalid-feedback d-block">([^<]+)</div>', _text(response))
    assert errors == [NOT_PUBLIC]
    assert 'value="http://127.0.0.1:8080/hook"' in _text(response)
    assert not WebhookEndpoint.objects.for_tenant(tenant).exists()
    assert not AuditEntry.objects.for_tenant(tenant).filter(action__startswith="webhook").exists()


def test_the_same_url_passes_when_private_addresses_are_allowed(tenant, owner, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE = True
    response = login(owner).post(
        "/app/settings/webhooks/new/", {"url": "http://127.0.0.1:8080/hook"}
    )
    assert response.status_code == 200
    assert WebhookEndpoint.objects.for_tenant(tenant).get().events == []


@pytest.mark.parametrize("role", ["marketer", "ops", "analyst"])
def test_lower_roles_read_but_every_change_is_forbidden(
    request, tenant, role, receiver, django_capture_on_commit_callbacks
):
    endpoint = webhook_endpoint_create(tenant=tenant, url=receiver.url, events=[])
    _emit(tenant, django_capture_on_commit_callbacks)
    delivery = WebhookDelivery.objects.for_tenant(tenant).get()
    client = login(request.getfixturevalue(role))
    base = "/app/settings/webhooks"

    assert client.get(f"{base}/").status_code == 200
    detail = client.get(f"{base}/{endpoint.pk}/")
    assert detail.status_code == 200
    assert "Replay" not in _text(detail) and "Disable" not in _text(detail)
    assert client.get(f"{base}/new/").status_code == 403
    assert client.post(f"{base}/new/", {"url": "https://x.example.com/"}).status_code == 403
    assert client.post(f"{base}/{endpoint.pk}/active/", {"active": "0"}).status_code == 403
    assert client.post(f"{base}/{endpoint.pk}/delete/").status_code == 403
    assert client.post(f"{base}/deliveries/{delivery.pk}/replay/").status_code == 403

    endpoint.refresh_from_db()
    assert endpoint.is_active
    assert WebhookEndpoint.objects.for_tenant(tenant).count() == 1
    assert WebhookAttempt.objects.for_tenant(tenant).count() == 1
    assert (
        not AuditEntry.objects.for_tenant(tenant)
        .filter(action__startswith="webhook")
        .exclude(action="webhook_endpoint.created")
    )


def test_another_tenants_endpoint_and_delivery_are_404(
    tenant, outsider, receiver, django_capture_on_commit_callbacks
):
    endpoint = webhook_endpoint_create(tenant=tenant, url=receiver.url, events=[])
    _emit(tenant, django_capture_on_commit_callbacks)
    delivery = WebhookDelivery.objects.for_tenant(tenant).get()
    client = login(outsider)
    base = "/app/settings/webhooks"

    assert client.get(f"{base}/{endpoint.pk}/").status_code == 404
    assert client.post(f"{base}/{endpoint.pk}/active/", {"active": "0"}).status_code == 404
    assert client.post(f"{base}/{endpoint.pk}/delete/").status_code == 404
    assert client.post(f"{base}/deliveries/{delivery.pk}/replay/").status_code == 404
    assert receiver.url not in _text(client.get(f"{base}/"))
    endpoint.refresh_from_db()
    assert endpoint.is_active
    assert WebhookAttempt.objects.for_tenant(tenant).count() == 1


def test_the_delivery_log_shows_each_attempts_request_and_response_and_filters_by_status(
    tenant, owner, receiver, django_capture_on_commit_callbacks
):
    endpoint = webhook_endpoint_create(tenant=tenant, url=receiver.url, events=[])
    receiver.statuses = [200, 500]
    first = _emit(tenant, django_capture_on_commit_callbacks, data={"reward": {"id": 41}})
    second = _emit(tenant, django_capture_on_commit_callbacks, data={"reward": {"id": 42}})
    WebhookDelivery.objects.for_tenant(tenant).filter(message=second).update(
        status=DeliveryStatus.FAILED
    )
    client = login(owner)
    base = f"/app/settings/webhooks/{endpoint.pk}/"

    page = _text(client.get(base))
    assert re.findall(r'data-delivery="\d+" data-status="(\w+)"', page) == ["failed", "succeeded"]
    ok_attempt = WebhookAttempt.objects.for_tenant(tenant).get(delivery__message=first)
    headers = ok_attempt.request_headers
    assert f"<code>{first.msg_id}</code>" in page
    assert f"<code>{headers['webhook-signature']}</code>" in page
    bodies = re.findall(r'data-testid="request-body">([^<]+)</pre>', page)
    assert [json.loads(b.replace("&quot;", '"'))["data"] for b in bodies] == [
        {"reward": {"id": 42}},
        {"reward": {"id": 41}},
    ]
    assert re.findall(r'data-testid="response-status">(\d+)<', page) == ["500", "200"]
    assert re.findall(r'data-testid="response-body">([^<]+)</pre>', page) == ["ok", "ok"]

    failed = _text(client.get(base, {"status": "failed"}))
    assert re.findall(r'data-delivery="\d+" data-status="(\w+)"', failed) == ["failed"]
    assert second.msg_id in failed and first.msg_id not in failed
    succeeded = _text(client.get(base, {"status": "succeeded"}))
    assert re.findall(r'data-delivery="\d+" data-status="(\w+)"', succeeded) == ["succeeded"]


def test_replay_sends_the_same_message_again_as_a_new_attempt(
    tenant, owner, receiver, django_capture_on_commit_callbacks
):
    endpoint = webhook_endpoint_create(tenant=tenant, url=receiver.url, events=[])
    receiver.statuses = [503]
    message = _emit(tenant, django_capture_on_commit_callbacks)
    delivery = WebhookDelivery.objects.for_tenant(tenant).get()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.PENDING, 1)

    with django_capture_on_commit_callbacks(execute=True):
        response = login(owner).post(f"/app/settings/webhooks/deliveries/{delivery.pk}/replay/")
    assert response.status_code == 302
    assert response["Location"] == f"/app/settings/webhooks/{endpoint.pk}/#d{delivery.pk}"

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == (
        DeliveryStatus.SUCCEEDED,
        2,
        200,
    )
    attempts = WebhookAttempt.objects.for_tenant(tenant).filter(delivery=delivery).order_by("id")
    assert [a.response_status for a in attempts] == [503, 200]
    assert [h["webhook-id"] for h, _body in receiver.requests] == [message.msg_id] * 2
    entry = AuditEntry.objects.for_tenant(tenant).get(action="webhook_delivery.replayed")
    assert (entry.actor, entry.target_id) == (owner, str(delivery.pk))


def test_a_disabled_endpoint_refuses_a_replay(
    tenant, owner, receiver, django_capture_on_commit_callbacks
):
    endpoint = webhook_endpoint_create(tenant=tenant, url=receiver.url, events=[])
    receiver.statuses = [500]
    _emit(tenant, django_capture_on_commit_callbacks)
    webhook_endpoint_set_active(endpoint=endpoint, active=False, reason="maintenance")
    delivery = WebhookDelivery.objects.for_tenant(tenant).get()
    before = (delivery.status, delivery.attempts, delivery.next_attempt_at)

    with django_capture_on_commit_callbacks(execute=True):
        response = login(owner).post(
            f"/app/settings/webhooks/deliveries/{delivery.pk}/replay/", follow=True
        )
    assert "This endpoint is disabled: enable it before replaying a delivery." in _text(response)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == before
    assert len(receiver.requests) == 1
    assert not AuditEntry.objects.for_tenant(tenant).filter(action="webhook_delivery.replayed")


def test_the_owner_disables_enables_and_deletes_an_endpoint_each_audited(
    tenant, owner, receiver, django_capture_on_commit_callbacks
):
    endpoint = webhook_endpoint_create(tenant=tenant, url=receiver.url, events=[])
    _emit(tenant, django_capture_on_commit_callbacks)
    client = login(owner)
    base = f"/app/settings/webhooks/{endpoint.pk}"

    client.post(f"{base}/active/", {"active": "0", "reason": "Moving servers"})
    endpoint.refresh_from_db()
    assert (endpoint.is_active, endpoint.disabled_reason) == (False, "Moving servers")
    assert "Moving servers" in _text(client.get(f"{base}/"))
    assert webhook_emit(tenant=tenant, type="reward.approved", data={}) is None

    client.post(f"{base}/active/", {"active": "1"})
    endpoint.refresh_from_db()
    assert (endpoint.is_active, endpoint.disabled_reason, endpoint.disabled_at) == (True, "", None)

    response = client.post(f"{base}/delete/")
    assert response.status_code == 302 and response["Location"] == "/app/settings/webhooks/"
    assert not WebhookEndpoint.objects.for_tenant(tenant).exists()
    assert not WebhookDelivery.objects.for_tenant(tenant).exists()
    entries = AuditEntry.objects.for_tenant(tenant).filter(actor=owner).order_by("id")
    assert [(e.action, e.note) for e in entries] == [
        ("webhook_endpoint.disabled", "Moving servers"),
        ("webhook_endpoint.enabled", ""),
        ("webhook_endpoint.deleted", ""),
    ]
    assert entries.last().data == {"url": receiver.url, "events": []}
