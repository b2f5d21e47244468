"""What every inbound connector shares: the mapped result of one delivery, resolving a
provider's customer to a participant, and storing the events through tracking's ingestion
(the same validation and the same `event_id` dedupe as `POST /api/v1/events`)."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field

from django.db import transaction
from rest_framework import serializers

from referral_platform.core import clock
from referral_platform.core.errors import Conflict
from tracking import services as tracking_services
from tracking.api.serializers import event_validate

from . import selectors
from .models import Connector, ExternalRef, InboundDelivery, Outcome


@dataclass
class Mapped:
    """One delivery in our terms: the events to ingest (API-shaped bodies), the provider ids
    to remember, or why nothing is due (`ignored`)."""

    provider_id: str = ""
    provider_type: str = ""
    events: list[dict] = field(default_factory=list)
    refs: list[tuple[str, str, str]] = field(default_factory=list)  # (kind, ref, external_id)
    ignored: str = ""
    # Events whose event_id may already stand with another body (a Shopify customer's
    # sign-up, sent again with each later order): a conflict there means "already known".
    once_only: set[str] = field(default_factory=set)


def hmac_matches(expected: str, secret: str, body: bytes, digest, encode) -> bool:
    """Constant-time comparison of a provider's HMAC header with ours."""
    if not expected or not secret:
        return False
    ours = encode(hmac.new(secret.encode(), body, digest).digest())
    return hmac.compare_digest(ours, expected.strip())


def hex_digest(raw: bytes) -> str:
    return raw.hex()


SHA1 = hashlib.sha1
SHA256 = hashlib.sha256


def resolve_external_id(
    *, tenant, external_id: str = "", email: str = "", ref_kind: str = "", ref: str = ""
) -> str:
    """The participant a provider's customer stands for: the `external_id` the tenant put in
    the provider's metadata, else the one this customer id was seen with before, else the
    tenant's participant with that email, else the provider's own id (prefixed), else ""."""
    external_id = (external_id or "").strip()
    if external_id:
        return external_id
    known = selectors.external_ref_get(tenant=tenant, kind=ref_kind, ref=ref)
    if known:
        return known
    by_email = selectors.participant_by_email(tenant=tenant, email=email)
    if by_email:
        return by_email
    if ref:
        return f"{ref_kind.split('_')[0]}:{ref}"
    return ""


def connector_refused(*, connector: Connector, reason: str) -> None:
    """A delivery that failed verification stores nothing but when and why, on the connector
    row itself (one UPDATE, no growth however often it is sent)."""
    Connector.objects.for_tenant(connector.tenant).filter(pk=connector.pk).update(
        last_refused_at=clock.now(), last_refused_reason=reason[:200]
    )


def _short(detail) -> str:
    return str(detail)[:500]


def delivery_record(*, connector: Connector, mapped: Mapped) -> InboundDelivery:
    """Validate every event first (nothing half-written), then remember the ids, ingest the
    events and log the delivery, in one transaction."""
    tenant = connector.tenant
    row = InboundDelivery(
        tenant=tenant,
        connector=connector,
        provider_id=mapped.provider_id[:200],
        provider_type=mapped.provider_type[:100],
        received_at=clock.now(),
    )
    validated = []
    for body in mapped.events:
        try:
            validated.append((event_validate(body), body))
        except serializers.ValidationError as exc:
            # The provider would send the same body again: acknowledge, and say why here.
            row.outcome, row.detail = Outcome.INVALID, _short(exc.detail)
            row.save()
            return row
    if not validated:
        row.outcome, row.detail = Outcome.IGNORED, mapped.ignored[:500]
        row.save()
        return row
    created_any = False
    try:
        with transaction.atomic():
            for kind, ref, external_id in mapped.refs:
                if ref and external_id:
                    ExternalRef.objects.for_tenant(tenant).update_or_create(
                        tenant=tenant, kind=kind, ref=ref, defaults={"external_id": external_id}
                    )
            for data, body in validated:
                try:
                    _event, created = tracking_services.event_ingest(
                        tenant=tenant, data=data, payload=body
                    )
                except Conflict:
                    if body["event_id"] not in mapped.once_only:
                        raise
                    created = False
                created_any = created_any or created
                row.event_ids.append(body["event_id"])
            row.outcome = Outcome.ACCEPTED if created_any else Outcome.DUPLICATE
            row.save()
    except Conflict as exc:
        # The same provider id with another body: the whole delivery is rolled back and
        # acknowledged, since sending it again cannot make it fit.
        row.pk, row.event_ids = None, []
        row.outcome, row.detail = Outcome.INVALID, _short(exc.message)
        row.save()
    return row
