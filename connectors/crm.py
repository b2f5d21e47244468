"""Referral statuses pushed to the tenant's HubSpot through the official client: the
referee's contact (upserted by email) and a deal upserted by our referral id, both with the
property `referral_status`. Status changes are collected into an outbox (`CrmPush`) and
sent with retries on the webhooks' schedule; the HTTP call happens outside any transaction."""

from __future__ import annotations

import random

from django.conf import settings
from django.db.models import Exists, OuterRef, Q
from hubspot import HubSpot
from hubspot.crm.contacts import ApiException as ContactsApiException
from hubspot.crm.contacts import (
    BatchInputSimplePublicObjectBatchInputUpsert as ContactsUpsert,
)
from hubspot.crm.contacts import (
    SimplePublicObjectBatchInputUpsert as ContactInput,
)
from hubspot.crm.deals import ApiException as DealsApiException
from hubspot.crm.deals import (
    BatchInputSimplePublicObjectBatchInputUpsert as DealsUpsert,
)
from hubspot.crm.deals import (
    SimplePublicObjectBatchInputUpsert as DealInput,
)
from urllib3.exceptions import HTTPError as TransportError

from referral_platform.core import clock
from referral_platform.core.audit import audit_log
from referral_platform.webhooks.services import retry_delay
from tracking.models import Referral

from .models import CrmConnection, CrmPush, PushStatus
from .outbound import CLAIM

STATUS_PROPERTY = "referral_status"
DEAL_KEY = "referral_id"
RETRYABLE = {429, 500, 502, 503, 504}


def crm_connection_save(*, tenant, access_token: str = "", is_active: bool = True, actor=None):
    connection = CrmConnection.objects.for_tenant(tenant).first() or CrmConnection(tenant=tenant)
    if access_token.strip():
        connection.access_token = access_token.strip()
    connection.is_active = is_active
    connection.save()
    audit_log(
        tenant=tenant,
        actor=actor,
        action="crm.saved",
        target=connection,
        data={"active": is_active},
    )
    return connection


def pushes_collect(*, limit: int = 1000) -> int:
    """Every referral whose current status is not yet in the outbox gets a row. Compared
    with the outbox rather than a watermark, because a status is dated by the event that
    set it, which may lie in the past (a late event)."""
    now = clock.now()
    made = 0
    for tenant_id in CrmConnection.unscoped.filter(is_active=True).values_list(
        "tenant_id", flat=True
    ):
        pushed = CrmPush.unscoped.filter(
            tenant_id=tenant_id,
            referral_id=OuterRef("pk"),
            status=OuterRef("status"),
            changed_at=OuterRef("status_changed_at"),
        )
        changed = (
            Referral.unscoped.filter(tenant_id=tenant_id)
            .exclude(Exists(pushed))
            .order_by("status_changed_at")
            .values_list("pk", "status", "status_changed_at")[:limit]
        )
        rows = [
            CrmPush(
                tenant_id=tenant_id,
                referral_id=pk,
                status=status,
                changed_at=at,
                next_attempt_at=now,
                created_at=now,
            )
            for pk, status, at in changed
        ]
        CrmPush.unscoped.bulk_create(rows, ignore_conflicts=True)
        made += len(rows)
    return made


def _client(token: str) -> HubSpot:
    host = getattr(settings, "CONNECTORS_HUBSPOT_API_BASE", "")
    return HubSpot(access_token=token, **({"host": host} if host else {}))


def _send(token: str, referral: Referral, status: str) -> tuple[str, str]:
    """("ok" | "retry" | "failed", reason)."""
    client = _client(token)
    timeout = getattr(settings, "CONNECTORS_PAYOUT_TIMEOUT", 20)
    properties = {STATUS_PROPERTY: status}
    try:
        if referral.referee.email:
            client.crm.contacts.batch_api.upsert(
                ContactsUpsert(
                    inputs=[
                        ContactInput(
                            id=referral.referee.email, id_property="email", properties=properties
                        )
                    ]
                ),
                _request_timeout=timeout,
            )
        client.crm.deals.batch_api.upsert(
            DealsUpsert(
                inputs=[
                    DealInput(
                        id=str(referral.pk),
                        id_property=DEAL_KEY,
                        properties={
                            **properties,
                            "dealname": f"Referral {referral.pk}: {referral.referee.external_id}",
                        },
                    )
                ]
            ),
            _request_timeout=timeout,
        )
    except (ContactsApiException, DealsApiException) as exc:
        reason = f"HubSpot answered {exc.status}: {exc.reason}"
        return ("retry" if exc.status in RETRYABLE else "failed"), reason
    except TransportError as exc:
        return "retry", f"No answer from HubSpot: {exc.__class__.__name__}"
    return "ok", ""


def push_attempt(*, push_id: int, rng: random.Random | None = None) -> str:
    now = clock.now()
    claimed = (
        CrmPush.unscoped.filter(pk=push_id, state=PushStatus.PENDING)
        .filter(Q(locked_until__isnull=True) | Q(locked_until__lt=now))
        .update(locked_until=now + CLAIM)
    )
    if not claimed:
        return "busy"
    push = CrmPush.unscoped.get(pk=push_id)
    connection = CrmConnection.unscoped.filter(tenant_id=push.tenant_id, is_active=True).first()
    referral = Referral.unscoped.select_related("referee").filter(pk=push.referral_id).first()
    if connection is None or referral is None:
        outcome, reason = "failed", "The CRM connection or the referral is gone."
    else:
        outcome, reason = _send(connection.access_token, referral, push.status)
    attempts = push.attempts + 1
    fields = {"attempts": attempts, "locked_until": None, "last_error": reason[:500]}
    if outcome == "ok":
        fields.update(state=PushStatus.SUCCEEDED, sent_at=clock.now(), next_attempt_at=None)
    elif outcome == "retry" and (delay := retry_delay(attempts, rng)) is not None:
        fields.update(next_attempt_at=clock.now() + delay)
        outcome = "retry"
    else:
        fields.update(state=PushStatus.FAILED, next_attempt_at=None)
        outcome = "failed"
    CrmPush.unscoped.filter(pk=push.pk).update(**fields)
    return outcome


def crm_push() -> dict:
    collected = pushes_collect()
    now = clock.now()
    due = list(
        CrmPush.unscoped.filter(state=PushStatus.PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:500]
    )
    outcomes: dict[str, int] = {}
    for push_id in due:
        outcome = push_attempt(push_id=push_id)
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return {"collected": collected, **outcomes}
