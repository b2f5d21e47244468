"""Writes the customer portal makes. Each acts as one participant, checks that what it
touches belongs to that participant (missing and foreign are the same NotFound), and
calls the owning app's service: rewards for choices, fraud for disputes, tracking for
events and privacy."""

from __future__ import annotations

import hashlib
import secrets
from urllib.parse import urlsplit

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from programs.holdout import in_holdout
from referral_platform.core import clock
from referral_platform.core.audit import audit_log
from referral_platform.core.errors import NotFound, PermissionDenied, ValidationFailed
from referral_platform.core.tasks import enqueue_on_commit

from . import rules, tokens


def _actor(participant) -> str:
    return f"participant:{participant.pk}"


# --- Getting in ------------------------------------------------------------------------


def portal_session_create(*, tenant, external_id: str, return_url: str = "") -> dict:
    """A signed link into the portal for one of the tenant's participants (API.md)."""
    from .selectors import held_out_everywhere, participant_by_external_id

    if return_url and urlsplit(return_url).scheme not in ("http", "https"):
        raise ValidationFailed(
            "return_url must be an http(s) URL.", fields={"return_url": ["Use an http(s) URL."]}
        )
    participant = participant_by_external_id(tenant=tenant, external_id=external_id)
    token, expires_at = tokens.token_make(
        tenant_id=tenant.pk,
        participant_id=participant.pk,
        purpose=tokens.SESSION,
        return_url=return_url,
    )
    return {
        "url": f"{settings.PUBLIC_BASE_URL}/portal/?token={token}",
        "expires_at": expires_at,
        "held_out": held_out_everywhere(participant),
        "participant": participant,
    }


MAGIC_USED_KEY = "portal:magic-used:{nonce}"
MAGIC_USED_PATH = "/portal/login/"


def magic_link_request(*, email: str) -> int:
    """Mail a sign-in link to every participant with this address, in whichever tenants
    know it. Answers the caller nothing about who exists (the view says the same either
    way); returns the number of links queued, for tests and logs only."""
    from tracking.identity import email_hash
    from tracking.models import Participant

    from .tasks import portal_magic_link_send_task

    digest = email_hash(email)
    if not digest:
        return 0
    # Unscoped on purpose: a customer arriving directly has no tenant yet; each mailed link
    # is bound to one tenant and goes only to the address on file.
    matches = list(
        Participant.unscoped.filter(
            email_hash=digest, erased_at__isnull=True, is_lead=False
        ).values_list("tenant_id", "pk")[:10]
    )
    for tenant_id, participant_id in matches:
        # The broker down: logged, not raised; the customer can ask for a new link.
        enqueue_on_commit(portal_magic_link_send_task, tenant_id, participant_id)
    return len(matches)


def magic_link_build(*, tenant_id: int, participant_id: int) -> str:
    token, _expires = tokens.token_make(
        tenant_id=tenant_id,
        participant_id=participant_id,
        purpose=tokens.MAGIC_LINK,
        nonce=secrets.token_urlsafe(8),
    )
    return f"{settings.PUBLIC_BASE_URL}/portal/login/{token}/"


def magic_link_consume(token: str) -> tokens.PortalClaim:
    """A mailed link works once. The use is marked in the database, not the cache: with
    Redis down the cache answers every `add` as new, which would let a link open the portal
    again and again. One unique row per link, in the table of keys that were used once."""
    from referral_platform.core.models import IdempotencyRecord

    claim = tokens.token_read(token, purpose=tokens.MAGIC_LINK)
    key = MAGIC_USED_KEY.format(nonce=claim.nonce or hashlib.sha256(token.encode()).hexdigest())
    try:
        with transaction.atomic():
            IdempotencyRecord.unscoped.create(
                tenant_id=claim.tenant_id,
                key=key,
                path=MAGIC_USED_PATH,
                body_hash="",
                status_code=200,
            )
    except IntegrityError:
        raise tokens.TokenInvalid() from None
    return claim


# --- Sharing ---------------------------------------------------------------------------


def _owned_enrollment(participant, enrollment_id):
    from tracking.models import Enrollment

    enrollment = (
        Enrollment.objects.for_tenant(participant.tenant_id)
        .filter(pk=enrollment_id, participant=participant)
        .select_related("program__current_version")
        .first()
    )
    if enrollment is None:
        raise NotFound("No such enrollment.")
    return enrollment


def _taking_part(participant, enrollment) -> None:
    """The program's holdout has no link, offer or reward to act on (SEMANTICS §10)."""
    if in_holdout(enrollment.program, participant.pk):
        raise PermissionDenied(
            _("You are not taking part in this program: there is nothing to share or redeem."),
            code="held_out",
        )


def share_record(*, participant, enrollment_id: int | None, channel: str):
    """A tap on a share button, stored as a `share` event for the funnel (SEMANTICS §6-7)
    through the same ingestion path as the tenants' own events."""
    from tracking.identity import new_ulid
    from tracking.services import event_ingest

    if channel not in rules.RECORDED_CHANNELS:
        raise ValidationFailed("Unknown channel.", fields={"channel": ["unknown channel"]})
    enrollment = _owned_enrollment(participant, enrollment_id)
    _taking_part(participant, enrollment)
    now = clock.now()
    payload = {
        "event_id": f"portal-share-{new_ulid()}",
        "type": "share",
        "occurred_at": now.isoformat(),
        "participant": {"external_id": participant.external_id},
        "properties": {"channel": channel, "program": enrollment.program.slug},
    }
    event, _created = event_ingest(
        tenant=participant.tenant, data={**payload, "occurred_at": now}, payload=payload
    )
    return event


@transaction.atomic
def personal_message_set(*, participant, enrollment_id: int | None, message: str):
    """The line the invite page shows under the referrer's name."""
    text = " ".join((message or "").split())
    if len(text) > 280:
        raise ValidationFailed(
            "The message is too long.", fields={"message": ["At most 280 characters."]}
        )
    enrollment = _owned_enrollment(participant, enrollment_id)
    enrollment.personal_message = text
    enrollment.save(update_fields=["personal_message"])
    return enrollment


# --- Rewards ---------------------------------------------------------------------------


def _owned_reward(participant, reward_id):
    from rewards.models import Reward

    reward = (
        Reward.objects.for_tenant(participant.tenant_id)
        .filter(pk=reward_id, participant=participant)
        .first()
    )
    if reward is None:
        raise NotFound("No such reward.")
    return reward


def reward_choose(*, participant, reward_id: int, option_index: int):
    """The participant picks one of a reward's options. Changes the row once; the ledger
    entry comes only at release (SEMANTICS §5). Choosing again is a no-op."""
    from rewards.services import reward_choose as choose

    reward = _owned_reward(participant, reward_id)
    return choose(reward=reward, option_index=option_index, actor_label=_actor(participant))


def reward_donate(*, participant, reward_id: int):
    from rewards.services import reward_donate_instead

    reward = _owned_reward(participant, reward_id)
    return reward_donate_instead(reward=reward, actor_label=_actor(participant))


def points_redeem(*, participant, enrollment_id: int | None, item_key: str, nonce: str = ""):
    """Spend points on an item of the catalogue of a program the participant takes part in.
    The form's nonce is the idempotency key: a double submit redeems once."""
    from rewards.services import points_redeem as redeem

    enrollment = _owned_enrollment(participant, enrollment_id)
    _taking_part(participant, enrollment)
    return redeem(
        participant=participant,
        program=enrollment.program,
        item_key=item_key,
        actor_label=_actor(participant),
        idempotency_key=f"portal:{nonce}" if nonce else "",
    )


# --- Disputes --------------------------------------------------------------------------


def dispute_file(*, participant, message: str, referral_id: int | None = None):
    from fraud.services import dispute_create
    from tracking.models import Referral

    referral = None
    if referral_id:
        referral = (
            Referral.objects.for_tenant(participant.tenant_id)
            .filter(pk=referral_id, referrer=participant)
            .first()
        )
        if referral is None:
            raise NotFound("No such referral.")
    return dispute_create(participant=participant, message=message, referral=referral)


# --- Privacy ---------------------------------------------------------------------------


def participant_tracking_set(*, participant, opted_out: bool):
    """Opt out of tracking (tracking's service: no attribution, no clicks recorded on their
    codes from now on), or back in."""
    from tracking.services import participant_opt_out

    if opted_out:
        return participant_opt_out(participant=participant, actor_label=_actor(participant))
    return _participant_opt_in(participant)


def participant_language_set(*, participant, language: str):
    """The language the participant picked on a page: their portal, emails and poster speak
    it from now on. One field, as the opt-in below."""
    from tracking.models import Participant

    Participant.unscoped.filter(pk=participant.pk).update(locale=language)
    participant.locale = language
    return participant


@transaction.atomic
def _participant_opt_in(participant):
    # tracking has no opt-in service yet; undoing the opt-out is one field and the code
    # cache, mirrored from tracking.services.participant_opt_out.
    from tracking.models import Participant, ReferralCode
    from tracking.services import code_cache_forget

    if participant.erased_at is not None or participant.opted_out_at is None:
        return participant
    Participant.unscoped.filter(pk=participant.pk).update(opted_out_at=None)
    participant.opted_out_at = None
    for code in ReferralCode.unscoped.filter(
        tenant_id=participant.tenant_id, enrollment__participant=participant
    ):
        code_cache_forget(code.code)
    audit_log(
        tenant=participant.tenant,
        actor=None,
        actor_label=_actor(participant),
        action="participant.opted_in",
        target=participant,
    )
    return participant


def participant_data_export(*, participant) -> dict:
    """tracking's export, plus the rewards, redemptions and disputes the portal shows."""
    from fraud.selectors import dispute_list_for_participant
    from rewards.models import Reward
    from rewards.selectors import redemption_list, redemption_to_dict
    from tracking.services import participant_export

    data = participant_export(participant=participant)
    data["rewards"] = [
        {
            "id": r.pk,
            "program": r.program.slug,
            "kind": r.kind,
            "amount": {"amount_minor": r.amount_minor, "currency": r.currency}
            if r.amount_minor is not None
            else None,
            "points": r.points,
            "description": r.description,
            "status": r.status,
            "due_at": r.due_at.isoformat() if r.due_at else None,
            "created_at": r.created_at.isoformat(),
        }
        for r in Reward.objects.for_tenant(participant.tenant_id)
        .filter(participant=participant)
        .select_related("program")
        .order_by("created_at", "pk")
    ]
    data["redemptions"] = [
        redemption_to_dict(r)
        for r in redemption_list(
            tenant=participant.tenant_id, participant=participant.external_id
        ).order_by("created_at", "pk")
    ]
    data["disputes"] = [
        {
            "message": d.message,
            "status": d.status,
            "answer": d.answer,
            "opened_at": d.opened_at.isoformat(),
        }
        for d in dispute_list_for_participant(participant)
    ]
    return data


def participant_data_erase(*, participant):
    """Wipe personal data (tracking's erasure) and the portal's own: the personal note."""
    from tracking.models import Enrollment
    from tracking.services import participant_erase

    with transaction.atomic():
        erased = participant_erase(participant=participant, actor_label=_actor(participant))
        Enrollment.unscoped.filter(tenant_id=participant.tenant_id, participant=participant).update(
            personal_message=""
        )
    return erased


def program_join(*, participant, program_slug: str):
    """A customer joins one of the programs the portal offers them (`joinable_programs`) and
    gets their link and code, as an enrolment through the API gives them."""
    from tracking.services import enrollment_create

    from .selectors import joinable_programs

    program = next((p for p in joinable_programs(participant) if p.slug == program_slug), None)
    if program is None:
        raise NotFound("No such program to join.")
    enrollment, code, _created = enrollment_create(
        tenant=participant.tenant, program=program, participant=participant
    )
    audit_log(
        tenant=participant.tenant,
        actor=None,
        action="portal.joined",
        target=enrollment,
        actor_label=f"participant:{participant.pk}",
    )
    return enrollment, code
