"""Reads of endpoints and their delivery log, always inside one tenant."""

from __future__ import annotations

from django.db.models import OuterRef, Prefetch, QuerySet, Subquery

from referral_platform.core.errors import NotFound

from .models import DeliveryStatus, WebhookAttempt, WebhookDelivery, WebhookEndpoint


def endpoint_list(*, tenant) -> QuerySet:
    """The tenant's endpoints, each with the status of its latest delivery, in one query."""
    latest = WebhookDelivery.unscoped.filter(endpoint=OuterRef("pk")).order_by("-created_at", "-id")
    return (
        WebhookEndpoint.objects.for_tenant(tenant)
        .annotate(
            last_delivery_status=Subquery(latest.values("status")[:1]),
            last_delivery_code=Subquery(latest.values("last_status_code")[:1]),
            last_delivery_at=Subquery(latest.values("created_at")[:1]),
        )
        .order_by("-is_active", "id")
    )


def endpoint_get(*, tenant, endpoint_id: int) -> WebhookEndpoint:
    """Another tenant's endpoint is missing, exactly like one that never existed."""
    endpoint = WebhookEndpoint.objects.for_tenant(tenant).filter(pk=endpoint_id).first()
    if endpoint is None:
        raise NotFound("No such webhook endpoint.")
    return endpoint


def delivery_list(*, endpoint: WebhookEndpoint, status: str = "") -> QuerySet:
    """The endpoint's deliveries, newest first, each with its message and every attempt."""
    qs = (
        WebhookDelivery.objects.for_tenant(endpoint.tenant_id)
        .filter(endpoint=endpoint)
        .select_related("message")
        .prefetch_related(
            Prefetch(
                "log",
                queryset=WebhookAttempt.objects.for_tenant(endpoint.tenant_id).order_by(
                    "created_at", "id"
                ),
            )
        )
        .order_by("-created_at", "-id")
    )
    if status in DeliveryStatus.values:
        qs = qs.filter(status=status)
    return qs


def delivery_get(*, tenant, delivery_id: int) -> WebhookDelivery:
    delivery = (
        WebhookDelivery.objects.for_tenant(tenant)
        .select_related("endpoint", "message")
        .filter(pk=delivery_id)
        .first()
    )
    if delivery is None:
        raise NotFound("No such delivery.")
    return delivery
