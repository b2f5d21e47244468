"""Claims ("someone referred me") and the invite page's leads."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from programs.pause import new_referrals_paused
from referral_platform.core import clock
from referral_platform.core.errors import ValidationFailed

from .. import attribution, identity, rules
from .. import codes as code_rules
from ..models import (
    Claim,
    ClaimStatus,
    Event,
    EventStatus,
    EventType,
    Participant,
    Referral,
    ReferralCode,
    ReferralStatus,
)
from .events import event_ingest
from .participants import LEAD_PREFIX, participant_upsert
from .referrals import _touch_from_evidence, referral_attribute


@transaction.atomic
def claim_record(
    *,
    tenant,
    program,
    referee_external_id: str,
    referrer_code: str = "",
    referrer_phone: str = "",
    referrer_email: str = "",
) -> tuple[Claim, Referral | None, bool]:
    """ "Someone referred me." Attributed now if the referee has signed up, else at sign-up;
    subject to the same window, priority and review as every other touch. Returns
    `(claim, the referral it attributed now or put in review, or None; whether that referral
    is new)`; the flow (`pipeline.flow.claim_process`) then scores it and advances its
    stages."""
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
            .filter(code=code_rules.normalize_code(referrer_code), program=program)
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
        return claim, None, False
    existing = (
        Referral.objects.for_tenant(tenant)
        .select_for_update()
        .filter(program=program, referee=referee)
        .first()
    )
    touch = attribution.Touch(
        source=attribution.CLAIM, referrer_id=referrer.pk, at=claim.created_at
    )
    if existing is None and new_referrals_paused(program.status):
        # No new referral while the program is paused (programs.pause); the claim is kept.
        return claim, None, False
    if existing is None:
        referral, created = referral_attribute(
            program=program,
            referee=referee,
            signup_at=signup.occurred_at,
            touches=[touch],
            event=signup,
        )
        claim.refresh_from_db()
        if claim.status == ClaimStatus.PENDING:
            claim.status = ClaimStatus.IGNORED
            claim.save(update_fields=["status"])
        return claim, referral, created
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
    # A claim that contradicts the attribution holds the referral: the flow has fraud open
    # its case and hold its cash.
    return claim, (existing if claim.status == ClaimStatus.REVIEW else None), False


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
