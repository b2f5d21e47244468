"""The outbox every app emits through. `webhook_emit` writes in the caller's transaction;
sending happens after commit (a task) and again from the retry sweep, so nothing is lost
when the broker or the receiver is down."""

from __future__ import annotations

import json
import random
import secrets
from datetime import timedelta

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from referral_platform.core import clock, memo
from referral_platform.core.audit import audit_log
from referral_platform.core.errors import Conflict, ValidationFailed
from referral_platform.core.tasks import enqueue_on_commit

from . import netguard, signing, transport
from .models import (
    EVENT_TYPES,
    DeliveryStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookMessage,
)

# Delay before retry n (after the n-th failure): about 3 days in all, Standard Webhooks'
# shape. Jitter keeps a recovering receiver from being hit by every tenant at once.
RETRY_SCHEDULE = (
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
    timedelta(hours=12),
    timedelta(hours=14),
    timedelta(hours=14),
    timedelta(hours=14),
)
JITTER = 0.1
CLAIM_SECONDS = 60


def retry_delay(failures: int, rng: random.Random | None = None) -> timedelta | None:
    """The wait after `failures` failed attempts, with ±10% jitter; None once exhausted."""
    if failures < 1 or failures > len(RETRY_SCHEDULE):
        return None
    base = RETRY_SCHEDULE[failures - 1]
    factor = 1 + (rng or random).uniform(-JITTER, JITTER)
    return timedelta(seconds=base.total_seconds() * factor)


def _msg_id() -> str:
    return "msg_" + secrets.token_hex(12)


@transaction.atomic
def webhook_endpoint_create(
    *,
    tenant,
    url: str,
    events: list[str],
    actor=None,
    description: str = "",
    ip_address: str | None = None,
) -> WebhookEndpoint:
    unknown = [e for e in events if e not in EVENT_TYPES]
    if unknown:
        msg = _("Unknown event types: %(types)s") % {"types": ", ".join(unknown)}
        raise ValidationFailed(msg, fields={"events": [msg]})
    netguard.check_url(url)
    endpoint = WebhookEndpoint.unscoped.create(
        tenant=tenant,
        url=url,
        events=list(dict.fromkeys(events)),
        secret=signing.secret_generate(),
        description=description,
    )
    audit_log(
        tenant=tenant,
        actor=actor,
        action="webhook_endpoint.created",
        target=endpoint,
        data={"url": url, "events": endpoint.events},
        ip_address=ip_address,
    )
    return endpoint


@transaction.atomic
def webhook_endpoint_set_active(
    *,
    endpoint: WebhookEndpoint,
    active: bool,
    actor=None,
    reason: str = "",
    ip_address: str | None = None,
) -> None:
    WebhookEndpoint.unscoped.filter(pk=endpoint.pk).update(
        is_active=active,
        disabled_at=None if active else clock.now(),
        disabled_reason="" if active else reason,
    )
    audit_log(
        tenant=endpoint.tenant,
        actor=actor,
        action="webhook_endpoint.enabled" if active else "webhook_endpoint.disabled",
        target=endpoint,
        note=reason,
        ip_address=ip_address,
    )


@transaction.atomic
def webhook_endpoint_delete(
    *, endpoint: WebhookEndpoint, actor=None, ip_address: str | None = None
) -> None:
    """The endpoint's deliveries and their log go with it; the audit entry keeps its URL."""
    audit_log(
        tenant=endpoint.tenant,
        actor=actor,
        action="webhook_endpoint.deleted",
        target=endpoint,
        data={"url": endpoint.url, "events": endpoint.events},
        ip_address=ip_address,
    )
    WebhookEndpoint.unscoped.filter(pk=endpoint.pk).delete()


def webhook_emit(*, tenant, type: str, data: dict) -> WebhookMessage | None:
    """Record `type` with `data` for every active endpoint of `tenant` subscribed to it, in
    the caller's transaction; deliveries are enqueued only once it commits."""
    if type not in EVENT_TYPES:
        raise ValueError(f"unknown webhook type {type!r}")
    active = memo.once(
        ("webhook_endpoints", tenant.pk),
        lambda: list(WebhookEndpoint.unscoped.filter(tenant=tenant, is_active=True)),
    )
    endpoints = [e for e in active if e.subscribes_to(type)]
    if not endpoints:
        return None
    now = clock.now()
    with transaction.atomic():
        message = WebhookMessage.unscoped.create(
            tenant=tenant,
            msg_id=_msg_id(),
            type=type,
            data=json.loads(json.dumps(data, cls=DjangoJSONEncoder)),
            created_at=now,
        )
        deliveries = WebhookDelivery.unscoped.bulk_create(
            [
                WebhookDelivery(
                    tenant=tenant, message=message, endpoint=e, next_attempt_at=now, created_at=now
                )
                for e in endpoints
            ]
        )
        ids = [d.pk for d in deliveries if d.pk] or list(
            WebhookDelivery.unscoped.filter(message=message).values_list("pk", flat=True)
        )
        _enqueue(tenant.pk, ids)
    return message


def _enqueue(tenant_id: int, delivery_ids: list[int]) -> None:
    """One task per delivery once the caller commits; a broker outage only delays: the retry
    sweep (`webhooks.deliver`) sends what was not enqueued."""
    from .tasks import webhook_deliver_task

    for delivery_id in delivery_ids:
        enqueue_on_commit(webhook_deliver_task, tenant_id, delivery_id)


def message_body(message: WebhookMessage) -> str:
    return json.dumps(
        {
            "id": message.msg_id,
            "type": message.type,
            "created_at": message.created_at.isoformat(),
            "data": message.data,
        },
        separators=(",", ":"),
        ensure_ascii=False,
    )


def _claim(delivery_id: int) -> bool:
    """Claim by conditional UPDATE: exactly one worker wins a pending, unlocked delivery."""
    now = clock.now()
    return bool(
        WebhookDelivery.unscoped.filter(pk=delivery_id, status=DeliveryStatus.PENDING)
        .filter(Q(locked_until__isnull=True) | Q(locked_until__lt=now))
        .update(locked_until=now + timedelta(seconds=CLAIM_SECONDS))
    )


def webhook_delivery_attempt(*, delivery_id: int, rng: random.Random | None = None) -> str:
    """Send one delivery once, outside any transaction, and record the outcome."""
    if not _claim(delivery_id):
        return "skipped"
    delivery = WebhookDelivery.unscoped.select_related("endpoint", "message").get(pk=delivery_id)
    endpoint, message = delivery.endpoint, delivery.message
    if not endpoint.is_active:
        WebhookDelivery.unscoped.filter(pk=delivery.pk).update(
            status=DeliveryStatus.FAILED, locked_until=None, last_error="endpoint disabled"
        )
        return "failed"
    body = message_body(message)
    sent_at = clock.now()
    request_headers = signing.headers(
        [endpoint.secret], message.msg_id, int(sent_at.timestamp()), body
    )
    request_headers["user-agent"] = "ReferralPlatform-Webhooks/1"
    try:
        # Resolved once: the POST goes to these checked addresses, not to a new answer.
        addresses = netguard.checked_addresses(endpoint.url)
    except ValidationFailed as exc:
        response = transport.Response(None, "", exc.message, 0)
    else:
        response = transport.post(endpoint.url, body, request_headers, addresses=addresses)
    return _record(delivery, endpoint, body, request_headers, response, rng)


@transaction.atomic
def _record(delivery, endpoint, body, request_headers, response, rng) -> str:
    now = clock.now()
    WebhookAttempt.unscoped.create(
        tenant_id=delivery.tenant_id,
        delivery=delivery,
        request_headers=request_headers,
        request_body=body,
        response_status=response.status,
        response_body=response.body,
        error=response.error,
        duration_ms=response.duration_ms,
        created_at=now,
    )
    attempts = delivery.attempts + 1
    fields = {
        "attempts": attempts,
        "locked_until": None,
        "last_status_code": response.status,
        "last_error": response.error,
    }
    if response.status is not None and 200 <= response.status < 300:
        fields.update(status=DeliveryStatus.SUCCEEDED, delivered_at=now, next_attempt_at=None)
        outcome = "succeeded"
    elif response.status == 410:
        # The receiver says the endpoint is gone for good: stop sending anything to it.
        WebhookEndpoint.unscoped.filter(pk=endpoint.pk).update(
            is_active=False, disabled_at=now, disabled_reason="410 Gone"
        )
        WebhookDelivery.unscoped.filter(endpoint=endpoint, status=DeliveryStatus.PENDING).exclude(
            pk=delivery.pk
        ).update(status=DeliveryStatus.FAILED, last_error="endpoint disabled")
        fields.update(status=DeliveryStatus.FAILED, next_attempt_at=None)
        outcome = "disabled"
    else:
        delay = retry_delay(attempts, rng)
        if delay is None:
            fields.update(status=DeliveryStatus.FAILED, next_attempt_at=None)
            outcome = "failed"
        else:
            fields.update(next_attempt_at=now + delay)
            outcome = "retry"
    WebhookDelivery.unscoped.filter(pk=delivery.pk).update(**fields)
    return outcome


@transaction.atomic
def webhook_delivery_replay(
    *, delivery: WebhookDelivery, actor=None, ip_address: str | None = None
) -> None:
    """Send the same message (same `webhook-id`) again, now, whatever happened before; the
    send is a new attempt in the delivery's log. A disabled endpoint gets nothing."""
    endpoint = WebhookEndpoint.unscoped.get(pk=delivery.endpoint_id)
    if not endpoint.is_active:
        raise Conflict(
            _("This endpoint is disabled: enable it before replaying a delivery."),
            code="endpoint_disabled",
        )
    WebhookDelivery.unscoped.filter(pk=delivery.pk).update(
        status=DeliveryStatus.PENDING, next_attempt_at=clock.now(), locked_until=None
    )
    audit_log(
        tenant=delivery.tenant,
        actor=actor,
        action="webhook_delivery.replayed",
        target=delivery,
        ip_address=ip_address,
    )
    _enqueue(delivery.tenant_id, [delivery.pk])


def webhook_deliveries_due(*, limit: int = 500) -> list[int]:
    now = clock.now()
    return list(
        WebhookDelivery.unscoped.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
        .filter(Q(locked_until__isnull=True) | Q(locked_until__lt=now))
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
