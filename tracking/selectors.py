"""Reads of the tracking app."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from referral_platform.core.compiled import compiled
from referral_platform.core.errors import NotFound

from .models import Click, Event, Participant, Referral, ReferralStage


@compiled
def _event_rows(*, tenant_id: int, participant_id: int):
    return (
        Event.objects.for_tenant(tenant_id)
        .filter(participant_id=participant_id)
        .order_by("occurred_at", "pk")
        .values_list("pk", "type", "occurred_at", "amount_minor", "currency", "order_id", "payload")
    )


def referral_facts(referral: Referral, *, fraud_decision: str):
    """The facts the rule engine reads about one referral. `fraud_decision` is fraud's
    (`fraud.selectors.referral_fraud_decision`, the one definition), handed in by the flow;
    `slots_used` and the other reward facts are left empty: rewards fills them under its
    lock."""
    from programs.engine import EventFact, ReferralFacts

    from .services import participant_fact

    facts = tuple(
        EventFact(
            id=pk,
            type=type_,
            occurred_at=occurred_at,
            amount_minor=amount_minor,
            currency=currency,
            order_id=order_id,
            properties=dict(payload.get("properties") or {}),
        )
        for pk, type_, occurred_at, amount_minor, currency, order_id, payload in _event_rows(
            tenant_id=referral.tenant_id, participant_id=referral.referee_id
        )
    )
    return ReferralFacts(
        referral_id=referral.pk,
        created_at=referral.created_at,
        referrer=participant_fact(referral.referrer),
        referee=participant_fact(referral.referee),
        events=facts,
        status=referral.status,
        fraud_decision=fraud_decision,
    )


def referral_spec(referral: Referral) -> dict:
    """The rules this referral follows: the program version in force when it was created,
    as its experiment variants' overrides make it (SEMANTICS §5). Both are fixed at the
    referral's creation, so rewards already earned keep their values."""
    from programs.engine import spec_for_variants, variants_decode
    from programs.selectors import version_spec

    rules = version_spec(referral.program_version_id, lambda: referral.program_version.spec)
    return spec_for_variants(rules, variants_decode(referral.variant))


def referral_list(*, tenant, filters: dict | None = None) -> QuerySet[Referral]:
    filters = filters or {}
    qs = Referral.objects.for_tenant(tenant).select_related("program", "referrer", "referee")
    if filters.get("program"):
        qs = qs.filter(program__slug=filters["program"])
    if filters.get("referrer"):
        qs = qs.filter(referrer__external_id=filters["referrer"])
    if filters.get("status"):
        qs = qs.filter(status=filters["status"])
    if filters.get("source"):
        qs = qs.filter(source=filters["source"])
    if filters.get("created_after"):
        qs = qs.filter(created_at__gte=filters["created_after"])
    if filters.get("created_before"):
        qs = qs.filter(created_at__lt=filters["created_before"])
    return qs


def referral_get(*, tenant, referral_id) -> Referral:
    """Another tenant's referral is exactly as missing as one that does not exist."""
    try:
        return referral_list(tenant=tenant).get(pk=int(referral_id))
    except (Referral.DoesNotExist, ValueError, TypeError):
        raise NotFound("No such referral.") from None


def referral_stages(referral: Referral) -> list[ReferralStage]:
    return list(
        ReferralStage.objects.for_tenant(referral.tenant_id)
        .filter(referral=referral)
        .order_by("occurred_at", "pk")
    )


def referral_timeline(referral: Referral) -> list[dict]:
    """Tracking's part of a referral's story: its clicks and touches, its referee's events and
    its stage changes (`kind` click, event or stage), in no particular order. The staff page
    adds fraud's and rewards' entries and sorts (`backoffice.selectors.referral_timeline`)."""
    tenant_id = referral.tenant_id
    items: list[dict] = []
    click_ids = {referral.click_id} if referral.click_id else set()
    evidence = referral.evidence or {}
    for touch in (
        [evidence.get("winner")]
        + list(evidence.get("assists") or [])
        + [loser for loser in evidence.get("losers") or []]
    ):
        if touch and touch.get("click_id"):
            click_ids.add(touch["click_id"])
    for click in Click.objects.for_tenant(tenant_id).filter(pk__in=click_ids):
        items.append(
            {
                "at": click.created_at,
                "kind": "click",
                "label": f"{click.source} · {click.code}",
                "detail": click.ua_class,
            }
        )
    referee_ids = [
        referral.referee_id,
        *Participant.objects.for_tenant(tenant_id)
        .filter(merged_into=referral.referee_id)
        .values_list("pk", flat=True),
    ]
    for event in Event.objects.for_tenant(tenant_id).filter(participant_id__in=referee_ids):
        items.append(
            {
                "at": event.occurred_at,
                "kind": "event",
                "label": event.get_type_display(),
                "detail": event.event_id,
            }
        )
    for stage in referral_stages(referral):
        items.append(
            {
                "at": stage.occurred_at,
                "kind": "stage",
                "label": stage.stage_key,
                "detail": stage.get_status_set_display(),
            }
        )
        if stage.reversed_at:
            items.append(
                {
                    "at": stage.reversed_at,
                    "kind": "stage",
                    "label": stage.stage_key,
                    "detail": _("reversed"),
                }
            )
    return items


def participant_list(*, tenant, query: str = "") -> QuerySet[Participant]:
    qs = Participant.objects.for_tenant(tenant).filter(merged_into__isnull=True)
    if query:
        qs = qs.filter(Q(external_id__icontains=query) | Q(name__icontains=query))
    return qs


PARTICIPANT_SEARCH_LIMIT = 50


def participant_search(*, tenant, query: str):
    """Participants whose external id or name contains `query`, whose email is `query`, or
    who own the referral code `query`; the newest first, at most `PARTICIPANT_SEARCH_LIMIT`."""
    from . import codes, identity
    from .models import ReferralCode

    query = (query or "").strip()
    found = participant_list(tenant=tenant, query=query)
    if not query:
        return found.order_by("-created_at")[:PARTICIPANT_SEARCH_LIMIT]
    extra = Q()
    if "@" in query:
        extra |= Q(email_hash=identity.email_hash(query))
    owners = ReferralCode.objects.for_tenant(tenant).filter(code=codes.normalize_code(query))
    extra |= Q(pk__in=owners.values("enrollment__participant_id"))
    matches = Participant.objects.for_tenant(tenant).filter(merged_into__isnull=True).filter(extra)
    return (found | matches).distinct().order_by("-created_at")[:PARTICIPANT_SEARCH_LIMIT]


def participants_eligibility(*, program, external_ids: list[str]) -> list[dict]:
    """Per external id, in the order given: whether the participant may refer in `program`
    now (its referrer-side rules) and the failing rules' keys, or `error: not_found`."""
    from programs import engine
    from referral_platform.core import clock

    rows = Participant.objects.for_tenant(program.tenant_id).filter(
        external_id__in=set(external_ids)
    )
    found = {p.external_id: p for p in rows.only("id", "external_id", "attributes", "segments")}
    spec, now, out = program.spec, clock.now(), []
    for external_id in external_ids:
        participant = found.get(external_id)
        if participant is None:
            out.append(
                {"participant": external_id, "eligible": False, "reasons": [], "error": "not_found"}
            )
            continue
        fact = engine.ParticipantFact(
            id=participant.pk,
            attributes=participant.attributes or {},
            segments=tuple(participant.segments or ()),
        )
        reasons = engine.eligibility(spec, fact, "referrer", now)
        out.append({"participant": external_id, "eligible": not reasons, "reasons": reasons})
    return out


def participant_get(*, tenant, participant_id: int) -> Participant:
    """Another tenant's participant is exactly as missing as one that does not exist."""
    participant = Participant.objects.for_tenant(tenant).filter(pk=participant_id).first()
    if participant is None:
        raise NotFound("No such participant.")
    return participant


def participant_enrollments(*, tenant, participant) -> QuerySet:
    from .models import Enrollment

    return (
        Enrollment.objects.for_tenant(tenant)
        .filter(participant=participant)
        .select_related("program")
        .prefetch_related("codes")
    )


def participant_referrals(*, tenant, participant) -> dict[str, QuerySet[Referral]]:
    """The referrals a participant made (as referrer) and received (as referee)."""
    referrals = Referral.objects.for_tenant(tenant)
    return {
        "made": referrals.filter(referrer=participant).select_related("program", "referee"),
        "received": referrals.filter(referee=participant).select_related("program", "referrer"),
    }


def programs_headline_numbers(tenant) -> dict:
    """Enrolled referrers and referrals per program, in two grouped queries:
    {"enrolled": {program_id: n}, "referrals": {program_id: n}}."""
    from django.db.models import Count

    from .models import Enrollment

    enrolled = dict(
        Enrollment.objects.for_tenant(tenant).values_list("program_id").annotate(n=Count("id"))
    )
    referrals = dict(
        Referral.objects.for_tenant(tenant).values_list("program_id").annotate(n=Count("id"))
    )
    return {"enrolled": enrolled, "referrals": referrals}


def program_referrals_in_flight(*, program) -> dict:
    """Referrals of a program that may still earn (not yet retained nor rejected), per
    program version they follow: {version number: count}."""
    from django.db.models import Count

    rows = (
        Referral.objects.for_tenant(program.tenant_id)
        .filter(program=program)
        .exclude(status__in=["retained", "rejected"])
        .values_list("program_version__number")
        .annotate(n=Count("id"))
    )
    return dict(rows)


# Share channels by their own names (not translated); email and SMS are words.
SHARE_CHANNEL_NAMES = {
    "wechat": "WeChat",
    "whatsapp": "WhatsApp",
    "telegram": "Telegram",
    "x": "X",
    "linkedin": "LinkedIn",
}


def channel_label(channel: str) -> str:
    """A channel as people read it: an attribution source ("QR code"), a share channel
    ("WeChat", "Email"), else the code itself; "—" for none."""
    from .models import AttributionSource

    if not channel:
        return "—"
    if channel in AttributionSource.values:
        return str(AttributionSource(channel).label)
    words = {"email": _("Email"), "sms": _("SMS"), "share": _("Share")}
    return SHARE_CHANNEL_NAMES.get(channel) or str(words.get(channel, channel))
