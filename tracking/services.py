"""Writes of the tracking app: participants, enrollments, codes, clicks, events, claims,
referrals and their stages. Each service guards first, then writes in one transaction;
anything slow is enqueued after commit."""

from __future__ import annotations

import hashlib
import json
import logging
import time
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from programs.engine import spec_for_variants, variants_assign, variants_decode, variants_encode
from referral_platform.core import clock
from referral_platform.core.audit import audit_log
from referral_platform.core.errors import Conflict, NotFound, ValidationFailed
from referral_platform.core.tasks import enqueue_on_commit
from referral_platform.tenancy.scoping import tenant_context

from . import attribution, clickbuffer, codes, identity, rules
from .models import (
    Claim,
    ClaimStatus,
    Click,
    Enrollment,
    Event,
    EventStatus,
    EventType,
    Participant,
    Referral,
    ReferralCode,
    ReferralStage,
    ReferralStatus,
)

logger = logging.getLogger(__name__)

LEAD_PREFIX = "lead:"
MAX_ATTEMPTS = 5
CLAIM_SECONDS = 300
# A tenant's clock may run a little ahead of ours; an event dated further ahead than this
# is refused (422) rather than kept waiting for a time that may be a typo.
FUTURE_TOLERANCE = timedelta(minutes=5)
STATUS_RANK = {
    ReferralStatus.PENDING: 0,
    ReferralStatus.QUALIFIED: 1,
    ReferralStatus.CONVERTED: 2,
    ReferralStatus.RETAINED: 3,
}


# --- Participants ------------------------------------------------------------------


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


@transaction.atomic
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
    participants = Participant.objects.for_tenant(tenant)
    participant = participants.select_for_update().filter(external_id=external_id).first()
    created = participant is None
    if created:
        try:
            with transaction.atomic():
                participant = Participant.objects.for_tenant(tenant).create(
                    tenant=tenant,
                    external_id=external_id,
                    attributes=dict(attributes or {}),
                    is_lead=is_lead,
                    **changes,
                )
        except IntegrityError:
            # A concurrent upsert created it first: update that one.
            participant = participants.select_for_update().get(external_id=external_id)
            created = False
    if not created:
        for key, value in changes.items():
            setattr(participant, key, value)
        if attributes:
            participant.attributes = {**participant.attributes, **attributes}
        participant.save()
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
    codes = list(
        ReferralCode.unscoped.filter(enrollment__participant=participant).values_list(
            "code", flat=True
        )
    )
    transaction.on_commit(lambda: [code_cache_forget(code) for code in codes])
    return participant


# --- Enrollments and codes -----------------------------------------------------------


def participant_fact(participant: Participant):
    from programs.engine import ParticipantFact

    return ParticipantFact(
        id=participant.pk,
        attributes=dict(participant.attributes or {}),
        segments=tuple(participant.segments or ()),
    )


def code_links(code: str) -> dict:
    base = settings.PUBLIC_BASE_URL
    return {
        "url": f"{base}/r/{code}",
        "qr_png_url": f"{base}/qr/{code}.png",
        "poster_png_url": f"{base}/qr/{code}/poster.png",
    }


@transaction.atomic
def enrollment_create(
    *, tenant, program, participant: Participant, vanity_code: str = ""
) -> tuple[Enrollment, ReferralCode, bool]:
    """Enroll a participant (idempotent per participant × program) and give them a code.
    An ineligible participant still gets a code: their friend still gets the offer and
    the referrer-side rewards are blocked later with the reason (SEMANTICS §4)."""
    if participant.is_lead:
        raise ValidationFailed(
            "A lead cannot refer.", fields={"participant": [_("Leads cannot enroll as referrers.")]}
        )
    if vanity_code and not codes.is_valid_vanity(vanity_code):
        raise ValidationFailed(
            "bad vanity code",
            fields={
                "code": [_("4–20 letters, digits or dashes, starting with a letter or digit.")]
            },
        )
    enrollment, created = Enrollment.objects.for_tenant(tenant).get_or_create(
        tenant=tenant,
        program=program,
        participant=participant,
        defaults=_enrollment_terms(program, participant, assigned=""),
    )
    if not created:
        terms = _enrollment_terms(program, participant, assigned=enrollment.variant)
        changed = [name for name, value in terms.items() if getattr(enrollment, name) != value]
        if changed:
            for name in changed:
                setattr(enrollment, name, terms[name])
            enrollment.save(update_fields=changed)
    code = None
    if vanity_code:
        code = _code_add(
            tenant=tenant,
            enrollment=enrollment,
            program=program,
            value=codes.normalize_code(vanity_code),
            vanity=True,
        )
    if code is None:
        code = (
            ReferralCode.objects.for_tenant(tenant)
            .filter(enrollment=enrollment, rotated_at__isnull=True, is_vanity=False)
            .order_by("created_at")
            .first()
        )
    if code is None:
        code = _code_generate(tenant=tenant, enrollment=enrollment, program=program)
    return enrollment, code, created


def _enrollment_terms(program, participant: Participant, *, assigned: str) -> dict:
    """Eligibility and the referrer-side experiment variants, assigned at enrollment
    (SEMANTICS §5): enrolling again keeps what was `assigned` and adds only experiments
    started since. Eligibility reads the spec as the participant's variants make it."""
    kept = variants_decode(assigned)
    variants = {**kept, **variants_assign(program.spec, "referrer", participant.pk, kept)}
    spec = spec_for_variants(program.spec, variants)
    reasons = rules.eligibility(spec, participant_fact(participant), "referrer")
    return {
        "eligible": not reasons,
        "ineligible_reasons": reasons,
        "variant": variants_encode(variants),
    }


def _code_add(*, tenant, enrollment, program, value: str, vanity: bool) -> ReferralCode:
    existing = ReferralCode.unscoped.filter(code=value).first()
    if existing is not None:
        if existing.enrollment_id == enrollment.pk:
            return existing
        raise Conflict(_("That code is taken."), code="code_taken")
    try:
        with transaction.atomic():
            return ReferralCode.objects.for_tenant(tenant).create(
                tenant=tenant, enrollment=enrollment, program=program, code=value, is_vanity=vanity
            )
    except IntegrityError as exc:
        raise Conflict(_("That code is taken."), code="code_taken") from exc


def _code_generate(*, tenant, enrollment, program) -> ReferralCode:
    # Codes are global (the redirect finds the tenant by code); a collision is rare at
    # 25**7 and simply retried, growing the length if the space ever gets crowded.
    for attempt in range(12):
        value = codes.generate_code(7 if attempt < 8 else 8)
        try:
            with transaction.atomic():
                return ReferralCode.objects.for_tenant(tenant).create(
                    tenant=tenant, enrollment=enrollment, program=program, code=value
                )
        except IntegrityError:
            continue
    raise RuntimeError("could not find a free referral code")


@transaction.atomic
def code_rotate(*, code: ReferralCode, actor=None) -> ReferralCode:
    """Retire a leaked code and issue a fresh one; the old one keeps resolving to the
    standard offer, unattributed."""
    if code.rotated_at is None:
        code.rotated_at = clock.now()
        code.save(update_fields=["rotated_at"])
        code_cache_forget(code.code)
        audit_log(tenant=code.tenant, actor=actor, action="referral_code.rotated", target=code)
    return _code_generate(tenant=code.tenant, enrollment=code.enrollment, program=code.program)


# --- The redirect's code lookup and click write -------------------------------------

CODE_CACHE_SECONDS = 300


def _code_cache_key(code: str) -> str:
    return f"tracking:code:v1:{code}"


# A few seconds of per-process memory in front of the shared cache: the hot path then costs
# a dict lookup, and a change (rotation, opt-out, program end) shows within LOCAL_SECONDS.
LOCAL_SECONDS = 10.0
_local: dict[str, tuple[float, dict]] = {}


def code_cache_forget(code: str) -> None:
    cache.delete(_code_cache_key(code))
    _local.pop(codes.normalize_code(code), None)


def code_resolve(code: str) -> dict | None:
    """What the hot paths need to know about a code, from one cached lookup (None: unknown).
    The destination is program data only: nothing here comes from the request."""
    code = codes.normalize_code(code)
    if not code or len(code) > 32:
        return None
    now = time.monotonic()
    hit = _local.get(code)
    if hit is not None and hit[0] > now:
        return hit[1] or None
    key = _code_cache_key(code)
    entry = cache.get(key)
    if entry is not None:
        _local_keep(code, entry, now)
        return entry or None
    row = (
        ReferralCode.unscoped.filter(code=code)
        .select_related("program__current_version", "enrollment__participant")
        .first()
    )
    if row is None:
        cache.set(key, {}, 60)
        _local_keep(code, {}, now)
        return None
    program = row.program
    referrer = row.enrollment.participant
    entry = {
        "code": row.code,
        "tenant_id": row.tenant_id,
        "program_id": program.pk,
        "enrollment_id": row.enrollment_id,
        "referrer_id": referrer.pk,
        "referrer_name": referrer.name,
        "landing_url": program.landing_url,
        "program_status": program.status,
        "ends_at": program.ends_at.isoformat() if program.ends_at else "",
        "rotated": row.rotated_at is not None,
        "opted_out": referrer.opted_out_at is not None,
        # How long the click cookie must live to cover the program's window.
        "window_days": int(rules.attribution_settings(program.spec).get("window_days") or 30),
    }
    cache.set(key, entry, CODE_CACHE_SECONDS)
    _local_keep(code, entry, now)
    return entry


def _local_keep(code: str, entry: dict, now: float) -> None:
    if len(_local) > 10_000:
        _local.clear()
    _local[code] = (now + LOCAL_SECONDS, entry)


def click_record(
    *,
    entry: dict,
    click_id: str,
    source: str,
    ip: str | None,
    ua_class: str,
    referer: str,
    utm: dict,
    is_bot: bool,
    now,
) -> None:
    """One cheap write: a Redis append when the buffer is configured, else one INSERT."""
    ip_hash, ip24_hash = identity.ip_hashes(ip)
    row = {
        "id": click_id,
        "tenant_id": entry["tenant_id"],
        "program_id": entry["program_id"],
        "enrollment_id": entry["enrollment_id"],
        "code": entry["code"],
        "created_at": now.isoformat(),
        "source": source[:20],
        "ip_hash": ip_hash,
        "ip24_hash": ip24_hash,
        "ua_class": ua_class,
        "referer": referer[:500],
        "utm": utm,
        "is_bot": is_bot,
        "leaked": bool(entry.get("rotated")),
    }
    if clickbuffer.push(row):
        return
    clickbuffer.write_rows([row])


# --- Events ---------------------------------------------------------------------------


def body_hash(data: dict) -> str:
    return hashlib.sha256(
        json.dumps(data, sort_keys=True, separators=(",", ":"), default=str).encode()
    ).hexdigest()


def _event_row(tenant, data: dict, payload: dict) -> Event:
    amount = data.get("amount") or {}
    now = clock.now()
    occurred_at = data.get("occurred_at") or now
    return Event(
        tenant=tenant,
        event_id=data["event_id"],
        type=data["type"],
        occurred_at=occurred_at,
        # The rules see only events that have happened: one dated ahead (clock skew, within
        # FUTURE_TOLERANCE) is not claimable before its time, so the sweeper takes it then.
        claimed_until=occurred_at if occurred_at > now else None,
        external_id=data["participant"]["external_id"],
        order_id=data.get("order_id") or "",
        amount_minor=amount.get("amount_minor"),
        currency=(amount.get("currency") or "").upper(),
        payload=payload,
        body_hash=body_hash(payload),
    )


def event_answer(event: Event) -> dict:
    return {"id": event.pk, "event_id": event.event_id, "status": "accepted"}


def event_ingest(*, tenant, data: dict, payload: dict) -> tuple[Event, bool]:
    """Store first, unique per tenant × event_id; process after commit. Returns
    `(event, created)`; a retry with the same body returns the first row, another body
    under the same event_id is a conflict."""
    row = _event_row(tenant, data, payload)
    try:
        if transaction.get_connection().in_atomic_block:
            # Inside a caller's transaction a duplicate must not break it: a savepoint.
            with transaction.atomic():
                row.save(force_insert=True)
        else:
            # In autocommit the INSERT is its own transaction: one round trip, where atomic()
            # would add BEGIN and COMMIT. The unique constraint answers retries.
            row.save(force_insert=True)
    except IntegrityError:
        first = Event.objects.for_tenant(tenant).get(event_id=row.event_id)
        if first.body_hash != row.body_hash:
            raise Conflict(
                _("This event_id was sent before with a different body."), code="event_id_conflict"
            ) from None
        return first, False
    if row.claimed_until is None:
        _enqueue(tenant.pk, [row.pk])
    return row, True


@transaction.atomic
def event_ingest_batch(*, tenant, items: list[tuple[int, dict, dict]]) -> dict[int, dict]:
    """`items` are `(index, data, payload)` of the valid events; answers per index."""
    results: dict[int, dict] = {}
    wanted = [data["event_id"] for _, data, _ in items]
    existing = {
        e.event_id: e
        for e in Event.objects.for_tenant(tenant)
        .filter(event_id__in=wanted)
        .only("pk", "event_id", "body_hash")
    }
    fresh: list[tuple[int, Event]] = []
    seen: dict[str, Event] = {}
    for index, data, payload in items:
        row = _event_row(tenant, data, payload)
        first = existing.get(row.event_id) or seen.get(row.event_id)
        if first is not None:
            if first.body_hash == row.body_hash:
                # `first` may be this batch's own unsaved row: its id is read after the insert.
                results[index] = {"index": index, "status": "duplicate", "id": first}
            else:
                results[index] = {
                    "index": index,
                    "status": "invalid",
                    "code": "event_id_conflict",
                    "fields": {
                        "event_id": [_("This event_id was sent before with a different body.")]
                    },
                }
            continue
        seen[row.event_id] = row
        fresh.append((index, row))
    if fresh:
        try:
            with transaction.atomic():
                Event.objects.for_tenant(tenant).bulk_create([row for _, row in fresh])
        except IntegrityError:
            # A concurrent request stored some of them: fall back to one by one.
            for index, row in fresh:
                try:
                    with transaction.atomic():
                        row.pk = None
                        row.save(force_insert=True)
                except IntegrityError:
                    first = Event.objects.for_tenant(tenant).get(event_id=row.event_id)
                    status = "duplicate" if first.body_hash == row.body_hash else "invalid"
                    results[index] = {"index": index, "status": status, "id": first.pk}
        if any(row.pk is None for _, row in fresh):
            # Backends without RETURNING on bulk insert: read the ids back.
            ids = dict(
                Event.objects.for_tenant(tenant)
                .filter(event_id__in=[row.event_id for _, row in fresh])
                .values_list("event_id", "pk")
            )
            for _index, row in fresh:
                row.pk = ids.get(row.event_id)
        for index, row in fresh:
            results.setdefault(index, {"index": index, "status": "accepted", "id": row.pk})
        _enqueue(
            tenant.pk,
            [
                row.pk
                for index, row in fresh
                if results[index]["status"] == "accepted" and row.claimed_until is None
            ],
        )
    for result in results.values():
        if isinstance(result.get("id"), Event):
            result["id"] = result["id"].pk
    return results


def _enqueue(tenant_id: int, event_pks: list[int]) -> None:
    from .tasks import events_process_task

    if event_pks:
        # Broker down: logged, and the sweeper processes the stored events.
        enqueue_on_commit(events_process_task, tenant_id, event_pks)


def event_claim(event_pk: int, *, now=None) -> bool:
    """Take an event for processing with a conditional UPDATE, so two workers (a task and
    the sweeper) never process it at once; a claim left by a dead worker expires."""
    now = now or clock.now()
    taken = (
        Event.unscoped.filter(pk=event_pk, status=EventStatus.ACCEPTED)
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .update(claimed_until=now + timedelta(seconds=CLAIM_SECONDS))
    )
    return taken == 1


def event_process_by_id(event_pk: int) -> str:
    """Claim, process, and record the outcome; safe to call any number of times."""
    if not event_claim(event_pk):
        return "skipped"
    event = Event.unscoped.select_related("tenant").get(pk=event_pk)
    try:
        with tenant_context(event.tenant):
            event_process(event)
    except Exception as exc:
        attempts = event.attempts + 1
        Event.unscoped.filter(pk=event_pk).update(
            attempts=attempts,
            error=f"{exc.__class__.__name__}: {exc}"[:2000],
            status=EventStatus.FAILED if attempts >= MAX_ATTEMPTS else EventStatus.ACCEPTED,
            # Back off before the sweeper tries again.
            claimed_until=clock.now() + timedelta(seconds=60 * attempts),
        )
        logger.exception("event %s failed (attempt %s)", event_pk, attempts)
        return "failed"
    return "processed"


@transaction.atomic
def event_process(event: Event) -> Event:
    """Attribution for a sign-up, stage progression for the referee's referrals, and the
    hand-over to fraud and rewards (docs/architecture.md). Idempotent."""
    event = Event.unscoped.select_for_update().get(pk=event.pk)
    if event.status == EventStatus.PROCESSED:
        return event
    tenant = event.tenant
    payload = event.payload
    person = payload.get("participant") or {}
    participant, _created = participant_upsert(
        tenant=tenant,
        external_id=person["external_id"],
        email=person.get("email"),
        phone=person.get("phone"),
        is_lead=person["external_id"].startswith(LEAD_PREFIX),
    )
    event.participant = participant
    event.save(update_fields=["participant"])
    touched: set[int] = set()
    if event.type == EventType.SIGNUP and participant.opted_out_at is None:
        touched |= signup_attribute(event=event, participant=participant)
    referrals = list(
        Referral.objects.for_tenant(tenant)
        .filter(referee=participant)
        .select_related("program", "program_version", "referrer", "referee")
    )
    for referral in referrals:
        if event.type == EventType.REFUND:
            rules.refund_apply(referral=referral, event=event)
        referral_progress(referral=referral, event=event)
    event.status = EventStatus.PROCESSED
    event.processed_at = clock.now()
    event.claimed_until = None
    event.error = ""
    event.save(update_fields=["status", "processed_at", "claimed_until", "error"])
    return event


def events_sweep(*, limit: int = 500, grace_seconds: int = 30) -> dict:
    """Process what the broker never delivered: accepted events older than a short grace
    (so the normal task path goes first) whose claim is free or expired."""
    now = clock.now()
    clickbuffer.flush()
    pks = list(
        Event.unscoped.filter(
            status=EventStatus.ACCEPTED, received_at__lte=now - timedelta(seconds=grace_seconds)
        )
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .order_by("received_at")
        .values_list("pk", flat=True)[:limit]
    )
    outcome = {"processed": 0, "failed": 0, "skipped": 0}
    for pk in pks:
        outcome[event_process_by_id(pk)] += 1
    return outcome


# --- Attribution --------------------------------------------------------------------


def _program_usable(program, at) -> bool:
    if program.current_version_id is None or program.status == "draft":
        return False
    return not (program.starts_at and at < program.starts_at)


def _touch_from_code(tenant, code_value: str, at) -> tuple[attribution.Touch, ReferralCode] | None:
    code = (
        ReferralCode.objects.for_tenant(tenant)
        .filter(code=codes.normalize_code(code_value))
        .select_related("enrollment", "program")
        .first()
    )
    if code is None:
        return None
    touch = attribution.Touch(
        source=attribution.CODE,
        referrer_id=code.enrollment.participant_id,
        at=at,
        code=code.code,
        leaked=code.rotated_at is not None and code.rotated_at <= at,
    )
    return touch, code


def _touch_from_click(click: Click) -> attribution.Touch | None:
    if click.enrollment_id is None or click.is_bot:
        return None
    return attribution.Touch(
        source=attribution.QR if click.source in ("qr", "event") else attribution.LINK,
        referrer_id=click.enrollment.participant_id,
        at=click.created_at,
        click_id=click.pk,
        code=click.code,
        leaked=click.leaked,
    )


def _touch_from_evidence(item: dict) -> attribution.Touch:
    from datetime import datetime

    return attribution.Touch(
        source=item["source"],
        referrer_id=item["referrer_id"],
        at=datetime.fromisoformat(item["at"]),
        click_id=item.get("click_id", ""),
        code=item.get("code", ""),
        leaked=item.get("leaked", False),
    )


def _lead_matches(
    tenant, participant: Participant, click_ids: set[str]
) -> list[tuple[Participant, str]]:
    """Invite-page leads that are this participant: same click id, email or phone."""
    leads = (
        Participant.objects.for_tenant(tenant)
        .filter(is_lead=True, merged_into__isnull=True)
        .exclude(pk=participant.pk)
    )
    found: dict[int, tuple[Participant, str]] = {}
    if click_ids:
        for lead_id in (
            Referral.objects.for_tenant(tenant)
            .filter(referee__in=leads, click_id__in=click_ids)
            .values_list("referee_id", flat=True)
        ):
            found.setdefault(lead_id, (None, "click_id"))
    if participant.email_hash:
        for lead in leads.filter(email_hash=participant.email_hash):
            found.setdefault(lead.pk, (lead, "email"))
    if participant.phone_hash:
        for lead in leads.filter(phone_hash=participant.phone_hash):
            found.setdefault(lead.pk, (lead, "phone"))
    out = []
    for lead_id, (lead, how) in found.items():
        out.append((lead or leads.get(pk=lead_id), how))
    return out


def signup_attribute(*, event: Event, participant: Participant) -> set[int]:
    """Gather every touch for this sign-up, per program, and create or merge referrals."""
    tenant = event.tenant
    at = event.occurred_at
    ref = event.payload.get("referral") or {}
    touches: dict[int, list[attribution.Touch]] = {}
    programs: dict[int, object] = {}
    click_ids: set[str] = set()

    def add(program, touch):
        programs[program.pk] = program
        touches.setdefault(program.pk, []).append(touch)

    if ref.get("code"):
        found = _touch_from_code(tenant, ref["code"], at)
        if found:
            add(found[1].program, found[0])
    for click_id in [ref.get("click_id")] + list(ref.get("cookie_click_ids") or []):
        if not click_id:
            continue
        click_ids.add(click_id)
    if click_ids:
        clickbuffer.flush()
        for click in (
            Click.objects.for_tenant(tenant)
            .filter(pk__in=click_ids)
            .select_related("enrollment", "program")
        ):
            touch = _touch_from_click(click)
            if touch:
                add(click.program, touch)
    for claim in (
        Claim.objects.for_tenant(tenant)
        .filter(referee=participant, status=ClaimStatus.PENDING)
        .select_related("program")
    ):
        if claim.referrer_id:
            add(
                claim.program,
                attribution.Touch(
                    source=attribution.CLAIM, referrer_id=claim.referrer_id, at=claim.created_at
                ),
            )
    # Leads from the invite page merge into this participant and bring their touches.
    merged_referrals: dict[int, Referral] = {}
    for lead, how in _lead_matches(tenant, participant, click_ids):
        for referral in (
            Referral.objects.for_tenant(tenant).filter(referee=lead).select_related("program")
        ):
            winner = (referral.evidence or {}).get("winner")
            for item in [winner] + list((referral.evidence or {}).get("assists") or []):
                if item:
                    add(referral.program, _touch_from_evidence(item))
            if how != "click_id" and not winner:
                add(
                    referral.program,
                    attribution.Touch(
                        source=attribution.IDENTITY,
                        referrer_id=referral.referrer_id,
                        at=referral.created_at,
                    ),
                )
            merged_referrals.setdefault(referral.program_id, referral)
        Event.objects.for_tenant(tenant).filter(participant=lead).update(participant=participant)
        lead.merged_into = participant
        lead.save(update_fields=["merged_into", "updated_at"])
        audit_log(
            tenant=tenant,
            actor=None,
            action="participant.lead_merged",
            target=participant,
            data={"lead": lead.external_id, "matched_by": how},
        )
    created: set[int] = set()
    for program_id, program_touches in touches.items():
        program = programs[program_id]
        if not _program_usable(program, at):
            continue
        referral = referral_attribute(
            program=program,
            referee=participant,
            signup_at=at,
            touches=program_touches,
            event=event,
            lead_referral=merged_referrals.get(program_id),
        )
        if referral is not None:
            created.add(referral.pk)
    return created


def _self_referral_ids(referee: Participant) -> set[int]:
    """Participants who are the referee under another id: same email or phone hash."""
    same = {referee.pk}
    q = Q()
    if referee.email_hash:
        q |= Q(email_hash=referee.email_hash)
    if referee.phone_hash:
        q |= Q(phone_hash=referee.phone_hash)
    if q:
        same |= set(
            Participant.objects.for_tenant(referee.tenant_id).filter(q).values_list("pk", flat=True)
        )
    return same


def referral_attribute(
    *,
    program,
    referee: Participant,
    signup_at,
    touches,
    event=None,
    lead_referral: Referral | None = None,
) -> Referral | None:
    """Decide with the pure function and persist: one referral per referee per program."""
    settings_ = attribution.Settings.from_dict(rules.attribution_settings(program.spec))
    selves = _self_referral_ids(referee)
    touches = [
        attribution.Touch(**{**t.__dict__, "self_referral": t.referrer_id in selves})
        for t in touches
    ]
    decision = attribution.decide(touches, signup_at=signup_at, settings=settings_)
    existing = (
        Referral.objects.for_tenant(referee.tenant_id)
        .select_for_update()
        .filter(program=program, referee=referee)
        .first()
    )
    if existing is not None:
        return existing
    if lead_referral is not None:
        return _lead_referral_adopt(lead_referral, referee=referee, decision=decision)
    if decision.outcome == attribution.NONE:
        return None
    return referral_create(
        program=program, referee=referee, decision=decision, signup_at=signup_at, event=event
    )


def _lead_referral_adopt(referral: Referral, *, referee: Participant, decision) -> Referral:
    previous = referral.referee_id
    referral.referee = referee
    evidence = (
        decision.evidence() if decision.outcome != attribution.NONE else dict(referral.evidence)
    )
    evidence["merged_from_lead"] = previous
    referral.evidence = evidence
    if decision.outcome == attribution.ATTRIBUTED and decision.referrer_id != referral.referrer_id:
        referral.referrer_id = decision.referrer_id
        referral.source = decision.source
    if decision.outcome == attribution.REVIEW and referral.status != ReferralStatus.REVIEW:
        referral.status_before_review = referral.status
        referral.status = ReferralStatus.REVIEW
    referral.save()
    return referral


@transaction.atomic
def referral_create(*, program, referee: Participant, decision, signup_at, event=None) -> Referral:
    tenant = referee.tenant
    if decision.outcome == attribution.REVIEW:
        candidates = decision.rule.get("candidates") or []
        referrer_id = candidates[-1]
        source = next(
            (t.source for t in decision.assists if t.referrer_id == referrer_id), attribution.LINK
        )
        winner = next((t for t in decision.assists if t.referrer_id == referrer_id), None)
    else:
        referrer_id, source, winner = decision.referrer_id, decision.source, decision.winner
    # A self-referral under another id is fraud's call (it scores same email/phone/device);
    # only the literal same participant is held here, since nothing else would catch it.
    review = decision.outcome == attribution.REVIEW or referrer_id == referee.pk
    enrollment = (
        Enrollment.objects.for_tenant(tenant)
        .filter(program=program, participant_id=referrer_id)
        .first()
    )
    # The referral is evaluated under its version's experiments: the referrer's variants
    # from the enrollment; the referee's keyed on the click that brought them (the `rp_click`
    # id the invite page showed its variant by, SEMANTICS §10), else on the referee.
    spec = program.spec
    referrer_variants = variants_decode(enrollment.variant) if enrollment else {}
    referee_unit = winner.click_id if winner and winner.click_id else referee.pk
    variants = {
        **variants_assign(spec, "referrer", referrer_id, referrer_variants),
        **variants_assign(spec, "referee", referee_unit),
    }
    try:
        with transaction.atomic():
            referral = Referral.objects.for_tenant(tenant).create(
                tenant=tenant,
                program=program,
                program_version_id=program.current_version_id,
                referrer_id=referrer_id,
                referee=referee,
                enrollment=enrollment,
                code=(winner.code if winner else "")[:32],
                source=source,
                click_id=(winner.click_id if winner else "")[:26],
                status=ReferralStatus.REVIEW if review else ReferralStatus.PENDING,
                status_before_review=ReferralStatus.PENDING if review else "",
                created_at=signup_at,
                status_changed_at=signup_at,
                evidence=decision.evidence(),
                variant=variants_encode(variants),
            )
    except IntegrityError:
        return Referral.objects.for_tenant(tenant).get(program=program, referee=referee)
    if event is not None:
        ReferralStage.objects.for_tenant(tenant).get_or_create(
            tenant=tenant,
            referral=referral,
            stage_key="signup",
            defaults={
                "status_set": ReferralStatus.PENDING,
                "occurred_at": signup_at,
                "event": event,
            },
        )
    Claim.objects.for_tenant(tenant).filter(
        referee=referee, program=program, status=ClaimStatus.PENDING
    ).update(
        status=ClaimStatus.ATTRIBUTED if source == attribution.CLAIM else ClaimStatus.IGNORED,
        referral=referral,
    )
    audit_log(
        tenant=tenant,
        actor=None,
        action="referral.created",
        target=referral,
        data={"source": source, "outcome": decision.outcome},
    )
    # Fraud scores every conversion, the self-referral that attribution flagged included.
    rules.fraud_assess(referral=referral, stage_key="signup")
    rules.webhook_emit(tenant=tenant, type="referral.created", data=referral_webhook_data(referral))
    rules.referral_notify(referral=referral)
    return referral


def referral_webhook_data(referral: Referral) -> dict:
    return {
        "id": referral.pk,
        "program": referral.program.slug,
        "referrer": referral.referrer.external_id,
        "referee": referral.referee.external_id,
        "status": referral.status,
        "source": referral.source,
        "created_at": referral.created_at.isoformat(),
    }


# --- Stages --------------------------------------------------------------------------


def referral_progress(*, referral: Referral, event: Event | None = None) -> Referral:
    """Ask the engine which stages the referee's events reach and write what changed."""
    from .selectors import referral_facts, referral_spec

    tenant = referral.tenant
    facts = referral_facts(referral)
    decisions = rules.evaluate_stages(referral_spec(referral), facts, clock.now(), tenant.calendar)
    stages = {
        s.stage_key: s for s in ReferralStage.objects.for_tenant(tenant).filter(referral=referral)
    }
    newly_paying: list[str] = []
    for decision in decisions:
        stage = stages.get(decision.stage_key)
        if decision.reversed:
            reversed_at = getattr(decision, "reversed_at", None) or decision.occurred_at
            if stage is None:
                # Reached and reversed before we saw it: keep both facts on the record.
                stages[decision.stage_key] = ReferralStage.objects.for_tenant(tenant).create(
                    tenant=tenant,
                    referral=referral,
                    stage_key=decision.stage_key,
                    status_set=decision.status or "",
                    occurred_at=decision.occurred_at,
                    event_id=decision.event_id,
                    due_at=decision.due_at,
                    reversed_at=reversed_at,
                )
                referral.reversed_at = reversed_at
            elif stage.reversed_at is None:
                stage.reversed_at = reversed_at
                stage.save(update_fields=["reversed_at"])
                referral.reversed_at = reversed_at
            continue
        if stage is None:
            stages[decision.stage_key] = ReferralStage.objects.for_tenant(tenant).create(
                tenant=tenant,
                referral=referral,
                stage_key=decision.stage_key,
                status_set=decision.status or "",
                occurred_at=decision.occurred_at,
                event_id=decision.event_id,
                due_at=decision.due_at,
            )
            if decision.success or decision.status == ReferralStatus.CONVERTED:
                newly_paying.append(decision.stage_key)
        elif stage.reversed_at is not None:
            stage.reversed_at = None
            stage.save(update_fields=["reversed_at"])
    live = [s for s in stages.values() if s.reversed_at is None and s.status_set in STATUS_RANK]
    target = max(live, key=lambda s: (STATUS_RANK[s.status_set], s.occurred_at), default=None)
    new_status = target.status_set if target else ReferralStatus.PENDING
    if referral.status in (ReferralStatus.REVIEW, ReferralStatus.REJECTED):
        # Ops decides; keep where it should return to.
        referral.status_before_review = new_status
        referral.save(update_fields=["status_before_review", "reversed_at"])
    elif new_status != referral.status:
        old = referral.status
        referral.status = new_status
        referral.status_changed_at = target.occurred_at if target else referral.created_at
        referral.save(update_fields=["status", "status_changed_at", "reversed_at"])
        rules.webhook_emit(
            tenant=tenant,
            type="referral.status_changed",
            data={**referral_webhook_data(referral), "previous_status": old},
        )
    for stage_key in newly_paying:
        rules.fraud_assess(referral=referral, stage_key=stage_key)
    rules.rewards_sync(referral=referral)
    return referral


# --- Claims and invite-page leads ------------------------------------------------------


@transaction.atomic
def claim_create(
    *,
    tenant,
    program,
    referee_external_id: str,
    referrer_code: str = "",
    referrer_phone: str = "",
    referrer_email: str = "",
) -> Claim:
    """ "Someone referred me." Attributed now if the referee has signed up, else at sign-up;
    subject to the same window, priority and review as every other touch."""
    referee = Participant.objects.for_tenant(tenant).filter(external_id=referee_external_id).first()
    if referee is None:
        raise ValidationFailed(
            "unknown referee", fields={"referee": [_("No participant with this external_id.")]}
        )
    referrer, named_by, code_value = None, "", ""
    enrolled = Participant.objects.for_tenant(tenant).filter(enrollments__program=program)
    if referrer_code:
        named_by = "code"
        found = (
            ReferralCode.objects.for_tenant(tenant)
            .filter(code=codes.normalize_code(referrer_code), program=program)
            .select_related("enrollment")
            .first()
        )
        if found is None:
            raise ValidationFailed(
                "unknown code", fields={"referrer_code": [_("No such code in this program.")]}
            )
        referrer, code_value = found.enrollment.participant, found.code
    elif referrer_phone:
        named_by = "phone"
        try:
            e164 = identity.normalize_phone(referrer_phone)
        except ValueError:
            raise ValidationFailed(
                "bad phone", fields={"referrer_phone": [_("Enter a valid phone number.")]}
            ) from None
        referrer = enrolled.filter(phone_hash=identity.phone_hash(e164)).first()
        if referrer is None:
            raise ValidationFailed(
                "unknown referrer", fields={"referrer_phone": [_("No referrer with this phone.")]}
            )
    elif referrer_email:
        named_by = "email"
        referrer = enrolled.filter(email_hash=identity.email_hash(referrer_email)).first()
        if referrer is None:
            raise ValidationFailed(
                "unknown referrer", fields={"referrer_email": [_("No referrer with this email.")]}
            )
    else:
        raise ValidationFailed(
            "name the referrer",
            fields={"referrer_code": [_("Give referrer_code, referrer_phone or referrer_email.")]},
        )
    claim = Claim.objects.for_tenant(tenant).create(
        tenant=tenant,
        program=program,
        referee=referee,
        referrer=referrer,
        named_by=named_by,
        code=code_value,
        created_at=clock.now(),
    )
    signup = (
        Event.objects.for_tenant(tenant)
        .filter(participant=referee, type=EventType.SIGNUP, status=EventStatus.PROCESSED)
        .order_by("occurred_at")
        .first()
    )
    if signup is None:
        return claim
    existing = (
        Referral.objects.for_tenant(tenant)
        .select_for_update()
        .filter(program=program, referee=referee)
        .first()
    )
    touch = attribution.Touch(
        source=attribution.CLAIM, referrer_id=referrer.pk, at=claim.created_at
    )
    if existing is None:
        referral = referral_attribute(
            program=program,
            referee=referee,
            signup_at=signup.occurred_at,
            touches=[touch],
            event=signup,
        )
        if referral is not None:
            referral_progress(referral=referral)
        claim.refresh_from_db()
        if claim.status == ClaimStatus.PENDING:
            claim.status = ClaimStatus.IGNORED
            claim.save(update_fields=["status"])
        return claim
    # A referral exists: the claim is one more touch, judged against what won before.
    settings_ = attribution.Settings.from_dict(rules.attribution_settings(program.spec))
    before = (
        [_touch_from_evidence(existing.evidence["winner"])]
        if (existing.evidence or {}).get("winner")
        else []
    )
    decision = attribution.decide(
        before + [touch], signup_at=existing.created_at, settings=settings_
    )
    claim.referral = existing
    if decision.outcome == attribution.REVIEW:
        claim.status = ClaimStatus.REVIEW
        if existing.status not in (ReferralStatus.REVIEW, ReferralStatus.REJECTED):
            existing.status_before_review = existing.status
            existing.status = ReferralStatus.REVIEW
        existing.evidence = {**existing.evidence, "conflicting_claim": touch.as_evidence()}
        existing.save(update_fields=["status", "status_before_review", "evidence"])
    else:
        claim.status = (
            ClaimStatus.ATTRIBUTED
            if decision.referrer_id == existing.referrer_id
            else ClaimStatus.IGNORED
        )
        existing.evidence = {
            **existing.evidence,
            "later_claims": [
                *existing.evidence.get("later_claims", []),
                {**touch.as_evidence(), "outcome": claim.status},
            ],
        }
        existing.save(update_fields=["evidence"])
    claim.save(update_fields=["status", "referral"])
    return claim


@transaction.atomic
def lead_signup(
    *,
    entry: dict,
    name: str,
    email: str,
    phone: str,
    locale: str,
    click_ids: list[str],
    consent: bool,
) -> Event:
    """The invite page's form: a `lead:<ulid>` participant and a `signup` event for it,
    carrying the code and the cookie's click ids; processed like any other event."""
    from referral_platform.tenancy.models import Tenant

    if not consent:
        raise ValidationFailed("consent", fields={"consent": [_("Please accept to continue.")]})
    if not (email or phone):
        raise ValidationFailed(
            "contact", fields={"email": [_("Give an email address or a phone number.")]}
        )
    tenant = Tenant.objects.get(pk=entry["tenant_id"])
    ulid = identity.new_ulid()
    external_id = f"{LEAD_PREFIX}{ulid}"
    participant_upsert(
        tenant=tenant,
        external_id=external_id,
        email=email or None,
        phone=phone or None,
        name=name,
        locale=locale,
        is_lead=True,
    )
    payload = {
        "event_id": f"invite:{ulid}",
        "type": "signup",
        "occurred_at": clock.now().isoformat(),
        "participant": {"external_id": external_id},
        "referral": {
            "code": entry["code"],
            "click_id": click_ids[0] if click_ids else "",
            "cookie_click_ids": click_ids[1:],
        },
        "properties": {"via": "invite_page"},
    }
    data = {**payload, "occurred_at": clock.now()}
    event, _created = event_ingest(tenant=tenant, data=data, payload=payload)
    return event


# --- Demo data ------------------------------------------------------------------------------

_DEMO_REFERRERS = [
    ("demo-r-1", "王芳", "wang.fang@demo.test", "+8613800000001"),
    ("demo-r-2", "李雷", "li.lei@demo.test", "+8613800000002"),
    ("demo-r-3", "Emma Stone", "emma@demo.test", "+8613800000003"),
    ("demo-r-4", "张伟", "zhang.wei@demo.test", "+8613800000004"),
]
_DEMO_ATTRIBUTES = {
    "orders_count": 3,
    "phone_verified": True,
    "kyc_verified": True,
    "nps": 9,
    "risk_flag": False,
    "in_arrears": False,
    "refund_in_progress": False,
    "active_users_30d": 8,
    "weekly_active_rate": 0.6,
    "trial_days": 10,
    "members": 5,
    "study_weeks": 4,
    "graduated": False,
    "region": "east-china",
}
# A first purchase that reaches each demo program's paid stage.
_DEMO_PURCHASE = {
    "saas-b2b": (
        168000,
        {"billing_period": "annual", "seats": 10, "offer_choice": "ten_percent_off"},
    ),
    "green-home": (15000, {"first_order": True}),
    "study-together": (198000, {"course_weeks": 12}),
}


def demo_data_seed(*, tenant) -> dict:
    """Sample referrers, clicks, sign-ups and purchases for each of the tenant's programs, so a
    fresh demo has a funnel to look at. Stable ids: running it again adds nothing."""
    from programs.models import Program

    now = clock.now()
    made = {"participants": 0, "events": 0}
    for program in Program.objects.for_tenant(tenant).exclude(status="draft").order_by("pk"):
        codes_by_referrer = []
        for external_id, name, email, phone in _DEMO_REFERRERS:
            participant, created = participant_upsert(
                tenant=tenant,
                external_id=external_id,
                name=name,
                email=email,
                phone=phone,
                attributes=_DEMO_ATTRIBUTES,
                segments=["demo"],
            )
            made["participants"] += int(created)
            codes_by_referrer.append(
                enrollment_create(tenant=tenant, program=program, participant=participant)[1]
            )
        amount, properties = _DEMO_PURCHASE.get(program.slug, (20000, {"first_order": True}))
        for index in range(8):
            referee = f"demo-{program.slug}-friend-{index + 1}"
            signup_id = f"demo-{program.slug}-signup-{index + 1}"
            if Event.objects.for_tenant(tenant).filter(event_id=signup_id).exists():
                continue
            code = codes_by_referrer[index % len(codes_by_referrer)]
            clicked = now - timedelta(days=20 - index * 2, hours=3)
            click_id = identity.new_ulid(int(clicked.timestamp() * 1000))
            entry = code_resolve(code.code)
            if entry is not None:
                click_record(
                    entry=entry,
                    click_id=click_id,
                    source=("wechat", "qr", "link")[index % 3],
                    ip=f"198.51.100.{index + 10}",
                    ua_class="mobile",
                    referer="",
                    utm={},
                    is_bot=False,
                    now=clicked,
                )
            events = [
                _demo_event(
                    signup_id,
                    "signup",
                    referee,
                    clicked + timedelta(hours=1),
                    referral={"click_id": click_id},
                    person={"email": f"friend{index + 1}.{program.slug}@mail{index}.test"},
                )
            ]
            if index % 2 == 0:
                events.append(
                    _demo_event(
                        f"demo-{program.slug}-order-{index + 1}",
                        "purchase",
                        referee,
                        clicked + timedelta(days=1),
                        amount={"amount_minor": amount, "currency": program.currency},
                        order_id=f"demo-{index + 1}",
                        properties=properties,
                    )
                )
            for data, payload in events:
                event, created = event_ingest(tenant=tenant, data=data, payload=payload)
                made["events"] += int(created)
                event_process_by_id(event.pk)
        # One doubtful referral for the review queue: a throwaway address.
        doubtful = [
            _demo_event(
                f"demo-{program.slug}-doubtful-signup",
                "signup",
                f"demo-{program.slug}-doubtful",
                now - timedelta(hours=6),
                referral={"code": codes_by_referrer[0].code},
                person={"email": "deal.hunter@mailinator.com"},
            ),
            _demo_event(
                f"demo-{program.slug}-doubtful-order",
                "purchase",
                f"demo-{program.slug}-doubtful",
                now - timedelta(hours=5),
                amount={"amount_minor": amount, "currency": program.currency},
                order_id="demo-doubtful",
                properties=properties,
            ),
        ]
        for data, payload in doubtful:
            if Event.objects.for_tenant(tenant).filter(event_id=data["event_id"]).exists():
                continue
            event, created = event_ingest(tenant=tenant, data=data, payload=payload)
            made["events"] += int(created)
            event_process_by_id(event.pk)
        for index in range(12):
            # Customers who came on their own: the baseline the KPIs compare against.
            event_id = f"demo-{program.slug}-organic-{index + 1}"
            if not Event.objects.for_tenant(tenant).filter(event_id=event_id).exists():
                data, payload = _demo_event(
                    event_id, "signup", f"demo-organic-{index + 1}", now - timedelta(days=index + 1)
                )
                event, created = event_ingest(tenant=tenant, data=data, payload=payload)
                made["events"] += int(created)
                event_process_by_id(event.pk)
    return made


def _demo_event(
    event_id: str, type_: str, external_id: str, at, *, person: dict | None = None, **extra
) -> tuple[dict, dict]:
    payload = {
        "event_id": event_id,
        "type": type_,
        "occurred_at": at.isoformat(),
        "participant": {"external_id": external_id, **(person or {})},
        **extra,
    }
    return {**payload, "occurred_at": at}, payload
