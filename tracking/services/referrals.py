"""Referrals: attribution of a sign-up (touches gathered, the pure `attribution.decide`,
leads merged), creation, and the stages the engine reports reached or reversed."""

from __future__ import annotations

import contextlib

from django.db import IntegrityError, transaction
from django.db.models import Q

from programs.engine import variants_assign, variants_decode, variants_encode
from programs.holdout import holdout_members
from programs.pause import new_referrals_paused
from referral_platform.core import clock
from referral_platform.core.audit import audit_log
from referral_platform.core.compiled import compiled
from referral_platform.webhooks.services import webhook_emit

from .. import attribution, clickbuffer, rules
from .. import codes as code_rules
from ..models import (
    Claim,
    ClaimStatus,
    Click,
    Enrollment,
    Event,
    Participant,
    Referral,
    ReferralCode,
    ReferralStage,
    ReferralStatus,
)

STATUS_RANK = {
    ReferralStatus.PENDING: 0,
    ReferralStatus.QUALIFIED: 1,
    ReferralStatus.CONVERTED: 2,
    ReferralStatus.RETAINED: 3,
}


def _program_usable(program, at) -> bool:
    if program.current_version_id is None or program.status == "draft":
        return False
    if new_referrals_paused(program.status):
        # A sign-up during a pause opens no referral (programs.pause).
        return False
    return not (program.starts_at and at < program.starts_at)


@compiled
def _code_rows(*, tenant_id: int, code: str):
    return (
        ReferralCode.objects.for_tenant(tenant_id)
        .filter(code=code)
        .select_related("enrollment", "program")
        .order_by("pk")[:1]
    )


def _touch_from_code(tenant, code_value: str, at) -> tuple[attribution.Touch, ReferralCode] | None:
    found = _code_rows(tenant_id=tenant.pk, code=code_rules.normalize_code(code_value))
    if not found:
        return None
    code = found[0]
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


@compiled
def _namesakes(*, tenant_id: int, email_hash: str | None = None, phone_hash: str | None = None):
    q = Q()
    if email_hash is not None:
        q |= Q(email_hash=email_hash)
    if phone_hash is not None:
        q |= Q(phone_hash=phone_hash)
    # Only what the checks and a lead's merge use: a farm may share one phone among many.
    return (
        Participant.objects.for_tenant(tenant_id)
        .filter(q)
        .only("tenant_id", "external_id", "is_lead", "merged_into", "email_hash", "phone_hash")
        .order_by("pk")
    )


def _same_identity(participant: Participant) -> list[Participant]:
    """The participants sharing `participant`'s email or phone hash, itself among them: one
    read answers both the leads it merges and who it is under another id."""
    hashes = {
        name: value
        for name, value in (
            ("email_hash", participant.email_hash),
            ("phone_hash", participant.phone_hash),
        )
        if value
    }
    if not hashes:
        return [participant]
    return _namesakes(tenant_id=participant.tenant_id, **hashes)


def _lead_matches(
    tenant, participant: Participant, click_ids: set[str], same: list[Participant]
) -> list[tuple[Participant, str]]:
    """Invite-page leads that are this participant: same click id, email or phone (`same`:
    `_same_identity(participant)`)."""

    def leads():
        return (
            Participant.objects.for_tenant(tenant)
            .filter(is_lead=True, merged_into__isnull=True)
            .exclude(pk=participant.pk)
        )

    found: dict[int, tuple[Participant, str]] = {}
    if click_ids:
        for lead_id in (
            Referral.objects.for_tenant(tenant)
            .filter(referee__in=leads(), click_id__in=click_ids)
            .values_list("referee_id", flat=True)
        ):
            found.setdefault(lead_id, (None, "click_id"))
    same_leads = [
        p for p in same if p.is_lead and p.merged_into_id is None and p.pk != participant.pk
    ]
    for field, how in (("email_hash", "email"), ("phone_hash", "phone")):
        value = getattr(participant, field)
        for lead in same_leads:
            if value and getattr(lead, field) == value:
                found.setdefault(lead.pk, (lead, how))
    out = []
    for lead_id, (lead, how) in found.items():
        out.append((lead or leads().get(pk=lead_id), how))
    return out


@compiled
def _pending_claims(*, tenant_id: int, referee_id: int):
    return (
        Claim.objects.for_tenant(tenant_id)
        .filter(referee_id=referee_id, status=ClaimStatus.PENDING)
        .select_related("program")
    )


def signup_attribute(
    *, event: Event, participant: Participant, referee_new: bool = False
) -> tuple[list[Referral], bool]:
    """Gather every touch for this sign-up, per program, and create or merge referrals.
    Returns the referrals created now (the flow has fraud score each once) and whether they
    are all the participant's referrals. `referee_new` says the participant was created in
    this transaction: no other transaction can have given it a claim or a referral, so
    neither is read, and unless a lead merged into it, the referrals created now are all it
    has."""
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
    claimed: set[int] = set()  # programs in which the referee has a pending claim
    for claim in (
        [] if referee_new else _pending_claims(tenant_id=tenant.pk, referee_id=participant.pk)
    ):
        claimed.add(claim.program_id)
        if claim.referrer_id:
            add(
                claim.program,
                attribution.Touch(
                    source=attribution.CLAIM, referrer_id=claim.referrer_id, at=claim.created_at
                ),
            )
    # Leads from the invite page merge into this participant and bring their touches.
    merged_referrals: dict[int, Referral] = {}
    same = _same_identity(participant)
    merged = _lead_matches(tenant, participant, click_ids, same)
    for lead, how in merged:
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
    created: list[Referral] = []
    for program_id, program_touches in touches.items():
        program = programs[program_id]
        if not _program_usable(program, at):
            continue
        referral, is_new = referral_attribute(
            program=program,
            referee=participant,
            signup_at=at,
            touches=program_touches,
            event=event,
            lead_referral=merged_referrals.get(program_id),
            claims_pending=program_id in claimed,
            selves={p.pk for p in same} | {participant.pk},
            referee_new=referee_new and not merged,
        )
        if is_new:
            created.append(referral)
    return created, referee_new and not merged


@compiled
def _referral_locked(*, tenant_id: int, program_id: int, referee_id: int):
    return (
        Referral.objects.for_tenant(tenant_id)
        .select_for_update()
        .filter(program_id=program_id, referee_id=referee_id)
        .order_by("pk")[:1]
    )


def referral_attribute(
    *,
    program,
    referee: Participant,
    signup_at,
    touches,
    event=None,
    lead_referral: Referral | None = None,
    claims_pending: bool = True,
    selves: set[int] | None = None,
    referee_new: bool = False,
) -> tuple[Referral | None, bool]:
    """Decide with the pure function and persist: one referral per referee per program.
    Returns `(referral or None, created now)`. A referee created in this transaction
    (`referee_new`) has no referral to find."""
    settings_ = attribution.Settings.from_dict(rules.attribution_settings(program.spec))
    # Who the referee is under another id (same email or phone hash), unless the caller read it.
    if selves is None:
        selves = {referee.pk} | {p.pk for p in _same_identity(referee)}
    # The program's holdout refers nobody (SEMANTICS §10): their codes, clicks and claims
    # are not touches.
    held_out = holdout_members(program, {t.referrer_id for t in touches})
    touches = [
        attribution.Touch(**{**t.__dict__, "self_referral": t.referrer_id in selves})
        for t in touches
        if t.referrer_id not in held_out
    ]
    decision = attribution.decide(touches, signup_at=signup_at, settings=settings_)
    existing = (
        []
        if referee_new
        else _referral_locked(
            tenant_id=referee.tenant_id, program_id=program.pk, referee_id=referee.pk
        )
    )
    if existing:
        return existing[0], False
    if lead_referral is not None:
        return _lead_referral_adopt(lead_referral, referee=referee, decision=decision), False
    if decision.outcome == attribution.NONE:
        return None, False
    return referral_create(
        program=program,
        referee=referee,
        decision=decision,
        signup_at=signup_at,
        event=event,
        claims_pending=claims_pending,
        referee_new=referee_new,
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


@compiled
def _enrollment_rows(*, tenant_id: int, program_id: int, referrer_id: int):
    return (
        Enrollment.objects.for_tenant(tenant_id)
        .filter(program_id=program_id, participant_id=referrer_id)
        .select_related("participant")
        .order_by("pk")[:1]
    )


@transaction.atomic(savepoint=False)
def referral_create(
    *,
    program,
    referee: Participant,
    decision,
    signup_at,
    event=None,
    claims_pending=True,
    referee_new=False,
) -> tuple[Referral, bool]:
    """Write the referral the attribution decided (held in review when attribution could not
    decide, or the referee referred themself); `(referral, created now)`. Fraud scoring, the
    `referral.created` webhook and the referrer's email follow in `pipeline.flow`. The
    referee's pending claims in the program are settled by it; `claims_pending=False` says
    the caller has read them in this transaction and found none; `referee_new` that it
    created the referee in this transaction, so no other can have written its referral."""
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
    enrollment = next(
        iter(_enrollment_rows(tenant_id=tenant.pk, program_id=program.pk, referrer_id=referrer_id)),
        None,
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
    # Another sign-up of this referee may have written its referral meanwhile: a savepoint
    # catches that. A referee created in this transaction is seen by nobody else.
    try:
        with contextlib.nullcontext() if referee_new else transaction.atomic():
            referral = Referral.unscoped.create(
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
        return Referral.objects.for_tenant(tenant).get(program=program, referee=referee), False
    if enrollment is not None:
        # The referrer's row came with the enrollment: fraud and the webhook read it next.
        referral.referrer = enrollment.participant
    if event is not None:
        # The referral was inserted just now: it has no stage yet.
        ReferralStage.unscoped.create(
            tenant=tenant,
            referral=referral,
            stage_key="signup",
            status_set=ReferralStatus.PENDING,
            occurred_at=signup_at,
            event=event,
        )
    if claims_pending:
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
    return referral, True


def referral_created_announce(referral: Referral) -> None:
    webhook_emit(
        tenant=referral.tenant, type="referral.created", data=referral_webhook_data(referral)
    )


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


@compiled
def _stages_of(*, tenant_id: int, referral_id: int):
    return ReferralStage.objects.for_tenant(tenant_id).filter(referral_id=referral_id)


def referral_stages_apply(*, referral: Referral, decisions) -> list[str]:
    """Write the stages the engine reports reached or reversed (`decisions`, from
    `programs.engine.evaluate_stages`) and the referral's status they set; a referral in
    review or rejected keeps its status (ops decides) and remembers where it would return.
    Returns the paying stages reached now, which fraud scores."""
    tenant = referral.tenant
    stages = {s.stage_key: s for s in _stages_of(tenant_id=tenant.pk, referral_id=referral.pk)}
    newly_paying: list[str] = []
    for decision in decisions:
        stage = stages.get(decision.stage_key)
        if decision.reversed:
            reversed_at = getattr(decision, "reversed_at", None) or decision.occurred_at
            if stage is None:
                # Reached and reversed before we saw it: keep both facts on the record.
                stages[decision.stage_key] = ReferralStage.unscoped.create(
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
            stages[decision.stage_key] = ReferralStage.unscoped.create(
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
        webhook_emit(
            tenant=tenant,
            type="referral.status_changed",
            data={**referral_webhook_data(referral), "previous_status": old},
        )
    return newly_paying


@compiled
def _referral_for_lock(*, tenant_id: int, pk: int):
    return (
        Referral.objects.for_tenant(tenant_id)
        .select_for_update(of=("self",))
        .select_related("referrer", "referee")
        .filter(pk=pk)
    )


def referral_lock(referral: Referral) -> Referral:
    """The referral's row, read again and locked for the caller's transaction, with its
    referrer and referee read again too (the flow changes them: an event's contact details).
    The tenant, program and program version are the ones `referral` holds: the flow never
    changes them, and the lock's statement costs a fraction without them."""
    found = _referral_for_lock(tenant_id=referral.tenant_id, pk=referral.pk)
    if not found:
        raise Referral.DoesNotExist(f"referral {referral.pk} is gone")
    locked = found[0]
    for name in ("tenant", "program", "program_version"):
        field = Referral._meta.get_field(name)
        if field.is_cached(referral) and getattr(referral, field.attname) == getattr(
            locked, field.attname
        ):
            field.set_cached_value(locked, field.get_cached_value(referral))
    return locked


def referral_status_set(referral: Referral, status: str, *, remember_previous: bool) -> None:
    """Move a referral into or out of `review`/`rejected` (fraud's decision, applied by the
    flow); the stage it had reached is kept in `status_before_review` so an approval returns
    it there. Emits `referral.status_changed`."""
    previous = referral.status
    if previous == status:
        return
    if remember_previous and previous not in (ReferralStatus.REVIEW, ReferralStatus.REJECTED):
        referral.status_before_review = previous
    referral.status = status
    referral.status_changed_at = clock.now()
    referral.save(update_fields=["status", "status_before_review", "status_changed_at"])
    webhook_emit(
        tenant=referral.tenant,
        type="referral.status_changed",
        data={**referral_webhook_data(referral), "previous_status": previous},
    )
