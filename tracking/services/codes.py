"""Enrollments and referral codes: enrolling, vanity codes, rotation, and the redirect's
cached code lookup and click write."""

from __future__ import annotations

import time

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from programs.engine import spec_for_variants, variants_assign, variants_decode, variants_encode
from programs.holdout import in_holdout
from referral_platform.core import clock
from referral_platform.core.audit import audit_log
from referral_platform.core.errors import Conflict, ValidationFailed
from referral_platform.core.retry import retry_on_conflict

from .. import clickbuffer, identity, rules
from .. import codes as code_rules
from ..models import Enrollment, Participant, ReferralCode
from .participants import participant_fact


def code_links(code: str) -> dict:
    base = settings.PUBLIC_BASE_URL
    return {
        "url": f"{base}/r/{code}",
        "qr_png_url": f"{base}/qr/{code}.png",
        "poster_png_url": f"{base}/qr/{code}/poster.png",
    }


@retry_on_conflict
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
    if vanity_code and not code_rules.is_valid_vanity(vanity_code):
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
            value=code_rules.normalize_code(vanity_code),
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
        value = code_rules.generate_code(7 if attempt < 8 else 8)
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


# --- The redirect's code lookup and click write ---------------------------------------

CODE_CACHE_SECONDS = 300


def _code_cache_key(code: str) -> str:
    return f"tracking:code:v1:{code}"


# A few seconds of per-process memory in front of the shared cache: the hot path then costs
# a dict lookup, and a change (rotation, opt-out, program end) shows within LOCAL_SECONDS.
LOCAL_SECONDS = 10.0
_local: dict[str, tuple[float, dict]] = {}


def code_cache_forget(code: str) -> None:
    cache.delete(_code_cache_key(code))
    _local.pop(code_rules.normalize_code(code), None)


def program_codes_forget(program_id: int) -> None:
    """Forget the cached entries of every code of a program whose rules just changed."""
    codes = ReferralCode.unscoped.filter(program_id=program_id).values_list("code", flat=True)
    chunk: list[str] = []
    for code in codes.iterator(chunk_size=1000):
        _local.pop(code, None)
        chunk.append(_code_cache_key(code))
        if len(chunk) == 1000:
            cache.delete_many(chunk)
            chunk = []
    if chunk:
        cache.delete_many(chunk)


def code_resolve(code: str) -> dict | None:
    """What the hot paths need to know about a code, from one cached lookup (None: unknown).
    The destination is program data only: nothing here comes from the request."""
    code = code_rules.normalize_code(code)
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
        # The program holds this referrer out (SEMANTICS §10): the code attributes nothing.
        "held_out": in_holdout(program, referrer.pk),
        "opted_out": referrer.opted_out_at is not None,
        # How long the click cookie must live to cover the program's window.
        "window_days": int(rules.attribution_settings(program.spec).get("window_days") or 30),
    }
    cache.set(key, entry, CODE_CACHE_SECONDS)
    _local_keep(code, entry, now)
    return entry


# How long an entry must still live for a request to be answered from memory: the view asks
# `code_resolve` a fraction of a millisecond later. Requests in an entry's last MEMORY_SPARE
# seconds (1 % of LOCAL_SECONDS) take Django's full request cycle, and the first one after
# it expires refreshes it.
MEMORY_SPARE = 0.1


def code_entry_for_visitors(entry: dict) -> dict:
    """The entry as a visitor meets it (redirect, invite page, poster): a code whose referrer
    the program holds out (SEMANTICS §10) works like a rotated one, naming and crediting
    nobody."""
    return {**entry, "rotated": True} if entry.get("held_out") else entry


def code_answered_from_memory(code: str) -> bool:
    """Whether the redirect for `code` needs no connection at all: `code_resolve` answers from
    this process's memory, with MEMORY_SPARE to spare, and `click_record` only appends to the
    in-process click buffer."""
    hit = _local.get(code_rules.normalize_code(code))
    return hit is not None and hit[0] > time.monotonic() + MEMORY_SPARE and clickbuffer.enabled()


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
