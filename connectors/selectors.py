"""Reads for connectors: a tenant's connectors, their delivery log, and the participant a
provider's customer stands for."""

from __future__ import annotations

from django.db.models import QuerySet, Sum

from referral_platform.core.errors import NotFound
from tracking import identity
from tracking.models import Event, EventType, Participant

from .models import Connector, ExternalRef, InboundDelivery, Kind


def connector_list(*, tenant) -> dict[str, Connector | None]:
    """Every kind, configured or not, in the order the page shows them."""
    found = {c.kind: c for c in Connector.objects.for_tenant(tenant)}
    return {kind: found.get(kind) for kind in Kind.values}


def connector_get(*, tenant, kind: str) -> Connector:
    if kind not in Kind.values:
        raise NotFound("No such connector.")
    try:
        return Connector.objects.for_tenant(tenant).get(kind=kind)
    except Connector.DoesNotExist:
        raise NotFound("No such connector.") from None


def delivery_list(*, connector: Connector) -> QuerySet[InboundDelivery]:
    return (
        InboundDelivery.objects.for_tenant(connector.tenant)
        .filter(connector=connector)
        .order_by("-received_at", "-pk")
    )


def delivery_get(*, tenant, delivery_id: int) -> InboundDelivery:
    try:
        return (
            InboundDelivery.objects.for_tenant(tenant)
            .select_related("connector")
            .get(pk=delivery_id)
        )
    except InboundDelivery.DoesNotExist:
        raise NotFound("No such delivery.") from None


def external_ref_get(*, tenant, kind: str, ref: str) -> str:
    """The external_id a provider's id was last seen with, or ""."""
    if not ref:
        return ""
    row = ExternalRef.objects.for_tenant(tenant).filter(kind=kind, ref=ref).first()
    return row.external_id if row else ""


def participant_by_email(*, tenant, email: str) -> str:
    """The external_id of the tenant's customer with this email (a lead only when no
    customer has it), or ""."""
    if not email:
        return ""
    digest = identity.email_hash(identity.normalize_email(email))
    rows = list(
        Participant.objects.for_tenant(tenant)
        .filter(email_hash=digest, erased_at__isnull=True)
        .order_by("is_lead", "pk")
        .values_list("external_id", flat=True)[:1]
    )
    return rows[0] if rows else ""


def refunded_before(*, tenant, order_id: str, excluding_event_id: str) -> int:
    """What refunds already recorded for this order add up to, in minor units."""
    total = (
        Event.objects.for_tenant(tenant)
        .filter(type=EventType.REFUND, order_id=order_id)
        .exclude(event_id=excluding_event_id)
        .aggregate(total=Sum("amount_minor"))["total"]
    )
    return int(total or 0)


def event_amount(*, tenant, event_id: str) -> int | None:
    """The amount an event already stored under this event_id carries, or None."""
    row = Event.objects.for_tenant(tenant).filter(event_id=event_id).values("amount_minor").first()
    return None if row is None else row["amount_minor"]


def payout_provider_get(*, tenant):
    from .models import PayoutProvider

    return PayoutProvider.objects.for_tenant(tenant).first()


def transfer_list(*, tenant, limit: int = 50):
    from .models import PayoutTransfer

    return list(
        PayoutTransfer.objects.for_tenant(tenant)
        .select_related("payout")
        .order_by("-created_at", "-pk")[:limit]
    )


def crm_get(*, tenant):
    from .models import CrmConnection

    return CrmConnection.objects.for_tenant(tenant).first()


def push_list(*, tenant, limit: int = 50):
    from .models import CrmPush

    return list(CrmPush.objects.for_tenant(tenant).order_by("-created_at", "-pk")[:limit])
