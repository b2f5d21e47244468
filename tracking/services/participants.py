"""Participants: upsert by external id, opt-out, export and erasure (SEMANTICS §8)."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from referral_platform.core import clock
from referral_platform.core.audit import audit_log
from referral_platform.core.compiled import compiled
from referral_platform.core.errors import NotFound, ValidationFailed
from referral_platform.core.retry import retry_on_conflict

from .. import identity
from ..models import Enrollment, Event, Participant, Referral, ReferralCode

LEAD_PREFIX = "lead:"


def _identity_fields(*, email: str | None, phone: str | None) -> dict:
    fields: dict = {}
    errors: dict[str, list[str]] = {}
    if email is not None:
        normalized = identity.normalize_email(email)
        if normalized and ("@" not in normalized or "." not in normalized.rpartition("@")[2]):
            errors["email"] = [_("Enter a valid email address.")]
        fields.update(
            email=normalized,
            email_hash=identity.email_hash(normalized),
            email_domain=identity.email_domain(normalized),
        )
    if phone is not None:
        try:
            e164 = identity.normalize_phone(phone)
        except ValueError:
            errors["phone"] = [_("Enter a valid phone number, with its country code.")]
            e164 = ""
        fields.update(phone=e164, phone_hash=identity.phone_hash(e164))
    if errors:
        raise ValidationFailed(_("Some fields are invalid."), fields=errors)
    return fields


def participant_upsert(
    *,
    tenant,
    external_id: str,
    email: str | None = None,
    phone: str | None = None,
    name: str | None = None,
    locale: str | None = None,
    segments: list[str] | None = None,
    attributes: dict | None = None,
    is_lead: bool = False,
) -> tuple[Participant, bool]:
    """Create or update by `external_id`; only the fields given change. Attributes merge
    key by key, because tenants send what changed rather than the whole record."""
    external_id = (external_id or "").strip()
    if not external_id:
        raise ValidationFailed("external_id is required", fields={"external_id": ["required"]})
    if external_id.startswith(LEAD_PREFIX) and not is_lead:
        raise ValidationFailed(
            "reserved prefix",
            fields={"external_id": ["'lead:' is reserved for invite-page leads."]},
        )
    changes = _identity_fields(email=email, phone=phone)
    if name is not None:
        changes["name"] = name.strip()[:200]
    if locale is not None:
        changes["locale"] = locale.strip()[:10]
    if segments is not None:
        changes["segments"] = [str(s) for s in segments]
    return _participant_write(
        tenant=tenant,
        external_id=external_id,
        changes=changes,
        attributes=attributes,
        is_lead=is_lead,
    )


@compiled
def _participant_locked(*, tenant_id: int, external_id: str):
    return (
        Participant.objects.for_tenant(tenant_id)
        .select_for_update()
        .filter(external_id=external_id)
        .order_by("pk")[:1]
    )


# The input is checked before: what fails here is the database, and a caller's transaction
# is rolled back with it, so it needs no savepoint of its own.
@retry_on_conflict
@transaction.atomic(savepoint=False)
def _participant_write(
    *, tenant, external_id: str, changes: dict, attributes: dict | None, is_lead: bool
) -> tuple[Participant, bool]:
    found = _participant_locked(tenant_id=tenant.pk, external_id=external_id)
    participant = found[0] if found else None
    created = participant is None
    if created:
        try:
            with transaction.atomic():
                participant = Participant.unscoped.create(
                    tenant=tenant,
                    external_id=external_id,
                    attributes=dict(attributes or {}),
                    is_lead=is_lead,
                    **changes,
                )
        except IntegrityError:
            # A concurrent upsert created it first: update that one.
            participant = (
                Participant.objects.for_tenant(tenant)
                .select_for_update()
                .get(external_id=external_id)
            )
            created = False
    if not created:
        # Only what changed is written, and nothing when the event repeats what we know:
        # the row stays locked (select_for_update) for the caller's transaction either way.
        changed = [key for key, value in changes.items() if getattr(participant, key) != value]
        for key in changed:
            setattr(participant, key, changes[key])
        if attributes:
            merged = {**participant.attributes, **attributes}
            if merged != participant.attributes:
                participant.attributes = merged
                changed.append("attributes")
        if changed:
            participant.save(update_fields=[*changed, "updated_at"])
    return participant, created


def participant_get(*, tenant, external_id: str) -> Participant:
    participant = Participant.objects.for_tenant(tenant).filter(external_id=external_id).first()
    if participant is None:
        raise NotFound(_("No such participant."))
    return participant


@transaction.atomic
def participant_opt_out(*, participant: Participant, actor_label: str = "system") -> Participant:
    """Stop tracking: the participant is never attributed as a referee again and clicks on
    their codes are no longer recorded (the link still works, unattributed)."""
    if participant.opted_out_at is None:
        participant.opted_out_at = clock.now()
        participant.save(update_fields=["opted_out_at", "updated_at"])
        audit_log(
            tenant=participant.tenant,
            actor=None,
            actor_label=actor_label,
            action="participant.opted_out",
            target=participant,
        )
    from .codes import code_cache_forget

    for code in ReferralCode.unscoped.filter(enrollment__participant=participant):
        code_cache_forget(code.code)
    return participant


def participant_export(*, participant: Participant) -> dict:
    """Everything we hold about one participant, as one JSON document."""
    tenant = participant.tenant
    events = (
        Event.objects.for_tenant(tenant).filter(participant=participant).order_by("occurred_at")
    )
    made = Referral.objects.for_tenant(tenant).filter(referrer=participant)
    received = Referral.objects.for_tenant(tenant).filter(referee=participant)
    enrollments = Enrollment.objects.for_tenant(tenant).filter(participant=participant)
    return {
        "participant": {
            "external_id": participant.external_id,
            "email": participant.email,
            "phone": participant.phone,
            "name": participant.name,
            "locale": participant.locale,
            "segments": participant.segments,
            "attributes": participant.attributes,
            "opted_out_at": participant.opted_out_at.isoformat()
            if participant.opted_out_at
            else None,
            "created_at": participant.created_at.isoformat(),
        },
        "enrollments": [
            {
                "program": e.program.slug,
                "codes": list(
                    ReferralCode.objects.for_tenant(tenant)
                    .filter(enrollment=e)
                    .values_list("code", flat=True)
                ),
                "eligible": e.eligible,
                "created_at": e.created_at.isoformat(),
            }
            for e in enrollments.select_related("program")
        ],
        "events": [
            {
                "event_id": e.event_id,
                "type": e.type,
                "occurred_at": e.occurred_at.isoformat(),
                "payload": e.payload,
            }
            for e in events
        ],
        "referrals_made": [_referral_brief(r) for r in made.select_related("program")],
        "referrals_received": [_referral_brief(r) for r in received.select_related("program")],
    }


def _referral_brief(referral: Referral) -> dict:
    return {
        "id": referral.pk,
        "program": referral.program.slug,
        "status": referral.status,
        "source": referral.source,
        "created_at": referral.created_at.isoformat(),
    }


_PERSONAL_EVENT_KEYS = ("email", "phone")
_PERSONAL_CONTEXT_KEYS = ("ip", "user_agent", "device_id", "payment_fingerprint", "address")


@transaction.atomic
def participant_erase(*, participant: Participant, actor_label: str = "system") -> Participant:
    """Wipe contact details and the personal parts of stored events. Referrals, stages and
    the ledger stay: they hold ids and amounts, not personal data (SEMANTICS §8)."""
    tenant = participant.tenant
    participant.email = participant.email_hash = participant.email_domain = ""
    participant.phone = participant.phone_hash = ""
    participant.name = ""
    participant.attributes = {}
    participant.segments = []
    participant.erased_at = clock.now()
    participant.opted_out_at = participant.opted_out_at or participant.erased_at
    participant.save()
    for event in Event.objects.for_tenant(tenant).filter(participant=participant):
        payload = dict(event.payload)
        person = dict(payload.get("participant") or {})
        for key in _PERSONAL_EVENT_KEYS:
            person.pop(key, None)
        payload["participant"] = person
        if isinstance(payload.get("context"), dict):
            payload["context"] = {
                k: v for k, v in payload["context"].items() if k not in _PERSONAL_CONTEXT_KEYS
            }
        event.payload = payload
        event.save(update_fields=["payload"])
    audit_log(
        tenant=tenant,
        actor=None,
        actor_label=actor_label,
        action="participant.erased",
        target=participant,
    )
    # The cached code entries carry the referrer's name for five minutes: forgotten once the
    # erasure is committed, so no public page (redirect, invite page, poster) keeps it.
    from .codes import code_cache_forget

    codes = list(
        ReferralCode.unscoped.filter(enrollment__participant=participant).values_list(
            "code", flat=True
        )
    )
    transaction.on_commit(lambda: [code_cache_forget(code) for code in codes])
    return participant


def participant_fact(participant: Participant):
    from programs.engine import ParticipantFact

    return ParticipantFact(
        id=participant.pk,
        attributes=dict(participant.attributes or {}),
        segments=tuple(participant.segments or ()),
    )
