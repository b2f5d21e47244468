"""Writes for connectors: the owner's settings, and one inbound delivery from verification
to the events it becomes."""

from __future__ import annotations

import secrets

from django.db import transaction

from referral_platform.core import clock
from referral_platform.core.audit import audit_log
from referral_platform.core.errors import NotFound, ValidationFailed
from referral_platform.tenancy.models import Tenant
from tracking import services as tracking_services

from .inbound import Mapped, connector_refused, delivery_record
from .models import Connector, InboundDelivery, Kind, Outcome
from .providers import segment_in, shopify_in, stripe_in

VERIFIERS = {
    Kind.STRIPE: stripe_in,
    Kind.SHOPIFY: shopify_in,
    Kind.SEGMENT: segment_in,
}


class Refused(Exception):
    """The delivery failed verification: 400, nothing stored."""


def secret_generate() -> str:
    return "seg_" + secrets.token_urlsafe(32)


@transaction.atomic
def connector_save(
    *,
    tenant,
    kind: str,
    secret: str = "",
    is_active: bool = True,
    mapping: dict | None = None,
    actor=None,
    ip_address: str | None = None,
) -> Connector:
    """Create or update the tenant's connector of `kind`. A blank secret keeps the one
    stored; a new connector needs one (Segment's is generated when none is typed)."""
    if kind not in Kind.values:
        raise NotFound("No such connector.")
    secret = (secret or "").strip()
    connector = Connector.objects.for_tenant(tenant).filter(kind=kind).first()
    if connector is None:
        if not secret and kind == Kind.SEGMENT:
            secret = secret_generate()
        if not secret:
            raise ValidationFailed(
                "Paste the signing secret from the provider.",
                fields={"secret": ["Paste the signing secret from the provider."]},
            )
        connector = Connector(tenant=tenant, kind=kind, secret=secret)
        if kind == Kind.SEGMENT:
            connector.mapping = dict(segment_in.DEFAULT_MAPPING)
    elif secret:
        connector.secret = secret
    connector.is_active = is_active
    if mapping is not None and kind == Kind.SEGMENT:
        connector.mapping = mapping
    connector.save()
    audit_log(
        tenant=tenant,
        actor=actor,
        action="connector.saved",
        target=connector,
        data={"kind": kind, "active": is_active, "secret_changed": bool(secret)},
        ip_address=ip_address,
    )
    return connector


@transaction.atomic
def connector_secret_rotate(*, connector: Connector, actor=None, ip_address=None) -> Connector:
    connector.secret = secret_generate()
    connector.save(update_fields=["secret", "updated_at"])
    audit_log(
        tenant=connector.tenant,
        actor=actor,
        action="connector.secret_rotated",
        target=connector,
        data={"kind": connector.kind},
        ip_address=ip_address,
    )
    return connector


def _active_connector(tenant, kind: str) -> Connector:
    connector = Connector.objects.for_tenant(tenant).filter(kind=kind, is_active=True).first()
    if connector is None:
        raise NotFound("No such connector.")
    return connector


def tenant_by_slug(slug: str) -> Tenant:
    try:
        return Tenant.objects.get(slug=slug)
    except Tenant.DoesNotExist:
        raise NotFound("No such connector.") from None


def _verified(connector: Connector, body: bytes, header: str | None) -> dict:
    module = VERIFIERS[connector.kind]
    try:
        return module.verify(body=body, header=header, secret=connector.secret)
    except module.Refused as exc:
        connector_refused(connector=connector, reason=str(exc))
        raise Refused(str(exc)) from None


def stripe_receive(*, tenant, body: bytes, signature: str | None) -> InboundDelivery:
    connector = _active_connector(tenant, Kind.STRIPE)
    event = _verified(connector, body, signature)
    return delivery_record(connector=connector, mapped=stripe_in.map_event(tenant, event))


def shopify_receive(*, tenant, body: bytes, signature: str | None, topic: str) -> InboundDelivery:
    connector = _active_connector(tenant, Kind.SHOPIFY)
    payload = _verified(connector, body, signature)
    return delivery_record(
        connector=connector, mapped=shopify_in.map_topic(tenant, topic or "", payload)
    )


def segment_receive(*, tenant, body: bytes, signature: str | None) -> InboundDelivery:
    connector = _active_connector(tenant, Kind.SEGMENT)
    call = _verified(connector, body, signature)
    kind = call.get("type")
    if kind == "track":
        mapped = segment_in.map_track(
            call, mapping=connector.mapping or {}, default_currency=tenant.currency
        )
        return delivery_record(connector=connector, mapped=mapped)
    if kind == "identify":
        return _segment_identify(connector, call)
    return delivery_record(
        connector=connector,
        mapped=Mapped(
            provider_id=str(call.get("messageId") or ""),
            provider_type=str(kind or ""),
            ignored=f"Segment {kind!r} calls are not read; track and identify are.",
        ),
    )


def _segment_identify(connector: Connector, call: dict) -> InboundDelivery:
    fields = segment_in.identify_fields(call)
    row = InboundDelivery(
        tenant=connector.tenant,
        connector=connector,
        provider_id=str(call.get("messageId") or "")[:200],
        provider_type="identify",
        received_at=clock.now(),
    )
    if not fields["external_id"]:
        row.outcome, row.detail = Outcome.IGNORED, "An anonymous identify (no userId)."
        row.save()
        return row
    try:
        with transaction.atomic():
            _participant, created = tracking_services.participant_upsert(
                tenant=connector.tenant, **fields
            )
    except ValidationFailed as exc:
        row.outcome, row.detail = Outcome.INVALID, str(exc.fields or exc.message)[:500]
    else:
        row.outcome = Outcome.ACCEPTED
        row.detail = ("Participant %s created." if created else "Participant %s updated.") % (
            fields["external_id"]
        )
    row.save()
    return row
