"""Writes of the fraud app: assessments, review decisions, disputes, policy, blocklists."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.db import DatabaseError, transaction
from django.utils.translation import gettext as _

from referral_platform.core import clock
from referral_platform.core.audit import audit_log
from referral_platform.core.calendar import due_at
from referral_platform.core.compiled import compiled
from referral_platform.core.errors import Conflict, PermissionDenied, ValidationFailed
from referral_platform.tenancy.models import Membership
from referral_platform.tenancy.permissions import REVIEW
from referral_platform.webhooks.services import webhook_emit
from tracking.models import ReferralCode
from tracking.services import code_rotate

from . import identity
from .models import (
    Assessment,
    BlockedIdentifier,
    CaseStatus,
    Decision,
    Dispute,
    DisputeOutcome,
    DisputeStatus,
    FraudPolicy,
    IdentifierKind,
    ReviewCase,
)
from .selectors import policy_for
from .signals import (
    REASONS,
    SIGNAL_CODES,
    Result,
    Signal,
    assess,
    failed_result,
    nothing_at_stake,
)

logger = logging.getLogger(__name__)

DISPUTE_SLA_BUSINESS_DAYS = 5
MAX_NOTE = 2000


# --- what the flow applies ---------------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    """Fraud's answer for one referral at one stage. Fraud writes only its own rows
    (assessment, review case); `pipeline.flow` applies the rest, in this order: the
    referral's status (tracking), its rewards (rewards), then `assessment_flagged`.

    `action`: "" (nothing to change), "hold" (into review: status and rewards),
    "reject" (status rejected, rewards rejected), "hold_rewards" (already in review for
    attribution: only its rewards are held)."""

    assessment: Assessment
    action: str = ""

    @property
    def decision(self) -> str:
        return self.assessment.decision


def reviewer_require(tenant, actor) -> None:
    if (
        actor is None
        or not Membership.objects.filter(tenant=tenant, user=actor, role__in=REVIEW).exists()
    ):
        raise PermissionDenied(_("Only ops staff and owners can decide reviews."))


# --- assessment ------------------------------------------------------------------------


LINKING_SIGNALS = {
    "velocity",
    "burst",
    "burst_days",
    "duplicate_referee",
    "payment_reuse",
    "ring",
    "refund_anomaly",
}
NOTHING_AT_STAKE = "nothing_at_stake"


def assessment_score(
    *, referral, stage_key: str, unreleased_rewards: int | None = None, new: bool = False
) -> Verdict:
    """Score `referral` at `stage_key` ("signup", a paying stage, "refund:<event>"), store the
    assessment and open or update its review case; return what the flow must apply.

    Fails closed: if the facts cannot be gathered or scored, the decision is `review`
    (note `assessment_failed`), never approve; a database error is raised, and the caller's
    transaction (an event's) is undone and run again. `unreleased_rewards` is the referral's rewards
    not yet released, counted by rewards and handed over by the flow (None: unknown). The
    caller holds the referral's row lock (`tracking.referral_lock`), or created the referral
    in its transaction (`new`: it has no assessment and no review case yet)."""
    from .facts import assessment_facts

    idle = False
    try:
        facts = assessment_facts(
            referral=referral, stage_key=stage_key, unreleased_rewards=unreleased_rewards
        )
        result = assess(facts, policy_for(referral.tenant, referral.program_id))
        idle = nothing_at_stake(facts)
        note = ""
    except DatabaseError:
        # The transaction is lost with it (no savepoint: one per assessment cost two
        # statements): the event fails and is processed again, still unpaid.
        raise
    except Exception:  # noqa: BLE001 — failing closed is the point: anything → review
        logger.exception("fraud assessment failed referral=%s stage=%s", referral.pk, stage_key)
        result = failed_result()
        note = "assessment_failed"
    return _assessment_store(
        referral=referral,
        stage_key=stage_key,
        result=result,
        note=note,
        nothing_left=idle,
        new=new,
    )


def linked_to_reassess(referral, assessment: Assessment) -> list:
    """A pattern seen now (the fifth farm phone, the second referee on one card) also
    implicates the referrals that came before it, whose cash may still be in its hold: the
    referrals (and the stage each was last approved at) to score again with what is known
    now. The flow scores them one level deep, so it always ends."""
    from tracking.models import Referral

    from .facts import linked_referral_ids

    linking = set(assessment.signal_codes) & LINKING_SIGNALS
    # With nothing left to hold here, the referrer's other referrals may still have rewards
    # in their hold: a pattern seen here is checked there all the same.
    flagged = assessment.decision != Decision.APPROVE or assessment.note == NOTHING_AT_STAKE
    if not (linking and flagged):
        return []
    linked = (
        Referral.objects.for_tenant(referral.tenant_id)
        .filter(pk__in=linked_referral_ids(referral, linking))
        .exclude(status__in=["review", "rejected"])
        .select_related("tenant", "program", "referrer", "referee")
    )
    out = []
    for other in linked:
        previous = (
            Assessment.objects.for_tenant(referral.tenant_id)
            .filter(referral=other)
            .order_by("-created_at", "-pk")
            .first()
        )
        if previous is not None and previous.decision == Decision.APPROVE:
            out.append((other, previous.stage_key))
    return out


@compiled
def _case_rows(*, tenant_id: int, referral_id: int):
    return (
        ReviewCase.objects.for_tenant(tenant_id).filter(referral_id=referral_id).order_by("pk")[:1]
    )


@compiled
def _assessment_rows(*, tenant_id: int, referral_id: int, stage_key: str):
    return (
        Assessment.objects.for_tenant(tenant_id)
        .filter(referral_id=referral_id, stage_key=stage_key)
        .order_by("pk")[:1]
    )


def _assessment_store(
    *,
    referral,
    stage_key: str,
    result: Result,
    note: str = "",
    nothing_left: bool = False,
    new: bool = False,
) -> Verdict:
    tenant = referral.tenant
    decision = result.decision
    case = (
        None if new else next(iter(_case_rows(tenant_id=tenant.pk, referral_id=referral.pk)), None)
    )
    codes = [s["code"] for s in result.signals]
    if case is not None and case.status == CaseStatus.REJECTED:
        decision, note = Decision.REJECT, note or "rejected_by_reviewer"
    elif (
        case is not None
        and case.status == CaseStatus.APPROVED
        and decision != Decision.APPROVE
        and set(codes) <= set(case.signal_codes)
        and not note
    ):
        # A person already cleared exactly these signals; asking again at every stage
        # would only make them click "approve" twice.
        decision, note = Decision.APPROVE, "cleared_by_reviewer"
    elif decision == Decision.REVIEW and nothing_left and referral.status != "review":
        # A refund inside the hold already reversed what it undid: the score and signals
        # stay on record, the queue gets nothing it could act on.
        decision, note = Decision.APPROVE, NOTHING_AT_STAKE
    # One row per referral and stage. The flow holds the referral's lock, so nobody else
    # writes this row meanwhile: a read and a write, without update_or_create's savepoints.
    values = {
        "score": result.score,
        "decision": decision,
        "signals": list(result.signals),
        "note": note,
    }
    assessment = (
        None
        if new
        else next(
            iter(
                _assessment_rows(tenant_id=tenant.pk, referral_id=referral.pk, stage_key=stage_key)
            ),
            None,
        )
    )
    if assessment is None:
        assessment = Assessment.unscoped.create(
            tenant=tenant, referral=referral, stage_key=stage_key, **values
        )
    else:
        for name, value in values.items():
            setattr(assessment, name, value)
        assessment.save(update_fields=list(values))
    action = ""
    if (
        decision == Decision.REVIEW
        and referral.status != "review"
        and referral.status != "rejected"
    ):
        _case_open(referral=referral, result=result)
        action = "hold"
    elif decision == Decision.REJECT and referral.status != "rejected":
        if case is None or case.status != CaseStatus.REJECTED:
            _case_open(referral=referral, result=result, status=CaseStatus.REJECTED)
        action = "reject"
    elif (
        referral.status == "review"
        and decision != Decision.REJECT
        and (case is None or case.status != CaseStatus.OPEN)
    ):
        # Tracking holds referrals it could not attribute cleanly (two referrers, a claim
        # against a click); they wait in the same queue, whatever the score says.
        attribution = Signal(
            "attribution_review",
            0,
            REASONS["attribution_review"],
            forces=Decision.REVIEW,
            params={"why": (referral.evidence or {}).get("outcome") or "conflicting referrers"},
        ).as_dict()
        result = Result(
            score=result.score, decision=Decision.REVIEW, signals=(*result.signals, attribution)
        )
        assessment.decision, assessment.signals = Decision.REVIEW, list(result.signals)
        assessment.save(update_fields=["decision", "signals"])
        _case_open(referral=referral, result=result)
        action = "hold_rewards"
    elif decision == Decision.REVIEW and case is not None and case.status == CaseStatus.OPEN:
        # Already waiting: the reviewer sees the newest signals.
        case.score = max(case.score, result.score)
        case.signal_codes = sorted(set(case.signal_codes) | set(codes))
        case.save(update_fields=["score", "signal_codes"])
    return Verdict(assessment=assessment, action=action)


def _case_open(*, referral, result: Result, status: str = CaseStatus.OPEN) -> ReviewCase:
    tenant = referral.tenant
    now = clock.now()
    codes = sorted({s["code"] for s in result.signals})
    case, _created = ReviewCase.unscoped.update_or_create(
        tenant=tenant,
        referral=referral,
        defaults={
            "program_id": referral.program_id,
            "status": status,
            "score": result.score,
            "signal_codes": codes,
            "opened_at": now,
            "due_at": due_at(now, tenant.calendar, hours=tenant.review_sla_hours),
            "decided_by": None,
            "decided_at": now if status != CaseStatus.OPEN else None,
            "note": "",
        },
    )
    return case


def assessment_flagged(referral, assessment: Assessment) -> None:
    """Audit and `conversion.flagged` for a referral fraud holds or rejects."""
    audit_log(
        tenant=referral.tenant,
        actor=None,
        action=f"fraud.{assessment.decision}",
        target=referral,
        data={
            "stage": assessment.stage_key,
            "score": assessment.score,
            "signals": [s["code"] for s in assessment.signals],
        },
    )
    webhook_emit(
        tenant=referral.tenant,
        type="conversion.flagged",
        data={
            "referral": referral.pk,
            "program": referral.program.slug,
            "referrer": referral.referrer.external_id,
            "referee": referral.referee.external_id,
            "stage": assessment.stage_key,
            "decision": assessment.decision,
            "score": assessment.score,
            "signals": [s["code"] for s in assessment.signals],
        },
    )


# --- review decisions --------------------------------------------------------------------


def review_decision_check(*, tenant, decision: str, actor, note: str = "") -> str:
    """Guard a reviewer's decision; the cleaned note."""
    note = (note or "").strip()
    if decision not in (Decision.APPROVE, Decision.REJECT):
        raise ValidationFailed(
            _("Decide approve or reject."), fields={"decision": [_("approve or reject")]}
        )
    if decision == Decision.REJECT and not note:
        raise ValidationFailed(
            _("Say why you reject it."), fields={"note": [_("A note is required to reject.")]}
        )
    if len(note) > MAX_NOTE:
        raise ValidationFailed(
            _("The note is too long."), fields={"note": [_("At most 2000 characters.")]}
        )
    reviewer_require(tenant, actor)
    return note


def review_case_close(*, referral, decision: str, actor, note: str) -> ReviewCase:
    """Close the referral's open case with a reviewer's decision (already checked by
    `review_decision_check`, the referral locked by the caller). The flow
    (`pipeline.flow.review_decide`) then applies it to the referral and its rewards."""
    case = (
        ReviewCase.objects.for_tenant(referral.tenant_id)
        .select_for_update()
        .filter(referral=referral)
        .first()
    )
    if case is None or case.status != CaseStatus.OPEN:
        raise Conflict(_("This referral is not waiting for review."), code="not_in_review")
    case.status = CaseStatus.APPROVED if decision == Decision.APPROVE else CaseStatus.REJECTED
    case.decided_by = actor
    case.decided_at = clock.now()
    case.note = note
    case.save(update_fields=["status", "decided_by", "decided_at", "note"])
    return case


def review_decided_audit(*, referral, case: ReviewCase, actor) -> None:
    audit_log(
        tenant=referral.tenant,
        actor=actor,
        action=f"review.{'approved' if case.status == CaseStatus.APPROVED else 'rejected'}",
        target=referral,
        data={"score": case.score, "signals": case.signal_codes, "program": referral.program.slug},
        note=case.note,
    )


@transaction.atomic
def review_assign(*, tenant, referral_ids: list[int], assignee, actor) -> int:
    reviewer_require(tenant, actor)
    if assignee is not None:
        reviewer_require(tenant, assignee)
    cases = ReviewCase.objects.for_tenant(tenant).filter(
        referral_id__in=referral_ids, status=CaseStatus.OPEN
    )
    count = cases.update(assignee=assignee)
    audit_log(
        tenant=tenant,
        actor=actor,
        action="review.assigned",
        data={"referrals": sorted(referral_ids), "assignee": getattr(assignee, "email", None)},
    )
    return count


# --- disputes ----------------------------------------------------------------------------


@transaction.atomic
def dispute_create(*, participant, message: str, referral=None) -> Dispute:
    """A customer's appeal from the portal; due in 5 business days of the tenant's calendar."""
    message = (message or "").strip()
    if not message:
        raise ValidationFailed(
            _("Tell us what went wrong."), fields={"message": [_("This field is required.")]}
        )
    if len(message) > MAX_NOTE:
        raise ValidationFailed(
            _("The message is too long."), fields={"message": [_("At most 2000 characters.")]}
        )
    if referral is not None and (
        referral.tenant_id != participant.tenant_id
        or participant.pk not in (referral.referrer_id, referral.referee_id)
    ):
        raise ValidationFailed(
            _("Unknown referral."), fields={"referral": [_("Not one of your referrals.")]}
        )
    tenant = participant.tenant
    now = clock.now()
    dispute = Dispute.unscoped.create(
        tenant=tenant,
        participant=participant,
        referral=referral,
        message=message,
        opened_at=now,
        due_at=due_at(now, tenant.calendar, business_days=DISPUTE_SLA_BUSINESS_DAYS),
    )
    audit_log(
        tenant=tenant,
        actor=None,
        actor_label=f"participant:{participant.external_id}",
        action="dispute.created",
        target=dispute,
        data={"referral": referral.pk if referral else None},
    )
    return dispute


@transaction.atomic
def dispute_answer(*, dispute: Dispute, answer: str, outcome: str, actor) -> Dispute:
    answer = (answer or "").strip()
    if not answer:
        raise ValidationFailed(
            _("Write the answer the customer will see."),
            fields={"answer": [_("This field is required.")]},
        )
    if outcome not in DisputeOutcome.values:
        raise ValidationFailed(_("Choose an outcome."), fields={"outcome": [_("Unknown outcome.")]})
    reviewer_require(dispute.tenant, actor)
    dispute = Dispute.objects.for_tenant(dispute.tenant_id).select_for_update().get(pk=dispute.pk)
    if dispute.status != DisputeStatus.OPEN:
        raise Conflict(_("This dispute was already answered."), code="dispute_answered")
    dispute.answer = answer
    dispute.outcome = outcome
    dispute.status = DisputeStatus.ANSWERED
    dispute.answered_by = actor
    dispute.answered_at = clock.now()
    dispute.save(update_fields=["answer", "outcome", "status", "answered_by", "answered_at"])
    audit_log(
        tenant=dispute.tenant,
        actor=actor,
        action="dispute.answered",
        target=dispute,
        data={"outcome": outcome, "referral": dispute.referral_id},
        note=answer,
    )
    return dispute


# --- policy and blocklist --------------------------------------------------------------


def _clean_policy(review_threshold, reject_threshold, weights, forces) -> dict:
    errors: dict[str, list[str]] = {}
    for name, value in (
        ("review_threshold", review_threshold),
        ("reject_threshold", reject_threshold),
    ):
        if value is not None and not (0 <= int(value) <= 100):
            errors[name] = [_("Between 0 and 100.")]
    if (
        review_threshold is not None
        and reject_threshold is not None
        and int(review_threshold) > int(reject_threshold)
    ):
        errors["review_threshold"] = [
            _("The review threshold cannot be above the reject threshold.")
        ]
    for code, weight in (weights or {}).items():
        if code not in SIGNAL_CODES:
            errors[f"weights.{code}"] = [_("Unknown signal.")]
        elif not (0 <= int(weight) <= 100):
            errors[f"weights.{code}"] = [_("Between 0 and 100.")]
    for code, forced in (forces or {}).items():
        if code not in SIGNAL_CODES:
            errors[f"forces.{code}"] = [_("Unknown signal.")]
        elif forced not in ("", "review", "reject"):
            errors[f"forces.{code}"] = [_("Empty, review or reject.")]
    if errors:
        raise ValidationFailed(_("Some policy values are invalid."), fields=errors)
    return {
        "review_threshold": review_threshold,
        "reject_threshold": reject_threshold,
        "weights": {k: int(v) for k, v in (weights or {}).items()},
        "forces": dict(forces or {}),
    }


@transaction.atomic
def policy_update(
    *,
    tenant,
    actor,
    program=None,
    review_threshold=None,
    reject_threshold=None,
    weights=None,
    forces=None,
) -> FraudPolicy:
    reviewer_require(tenant, actor)
    values = _clean_policy(review_threshold, reject_threshold, weights, forces)
    policy, _created = FraudPolicy.unscoped.update_or_create(
        tenant=tenant, program=program, defaults={**values, "updated_by": actor}
    )
    audit_log(
        tenant=tenant,
        actor=actor,
        action="fraud_policy.changed",
        target=policy,
        data={**values, "program": program.slug if program else None},
    )
    return policy


_TOKENISERS = {
    IdentifierKind.EMAIL: identity.email_token,
    IdentifierKind.DOMAIN: identity.domain_token,
    IdentifierKind.PHONE: identity.phone_token,
    IdentifierKind.DEVICE: identity.device_token,
    IdentifierKind.PAYMENT: identity.payment_token,
    IdentifierKind.ADDRESS: identity.address_token,
    IdentifierKind.IP: lambda v: identity.ip_tokens(v)[0],
    IdentifierKind.IP24: lambda v: identity.ip_tokens(v)[1],
}


@transaction.atomic
def blocklist_add(*, tenant, kind: str, value: str, actor, note: str = "") -> BlockedIdentifier:
    reviewer_require(tenant, actor)
    tokeniser = _TOKENISERS.get(kind)
    if tokeniser is None:
        raise ValidationFailed(_("Unknown kind."), fields={"kind": [_("Unknown kind.")]})
    token = tokeniser((value or "").strip())
    if not token:
        raise ValidationFailed(
            _("Not a usable value."), fields={"value": [_("Not a usable value.")]}
        )
    entry, _created = BlockedIdentifier.unscoped.get_or_create(
        tenant=tenant,
        kind=kind,
        value_hash=token,
        defaults={"display": identity.mask(kind, value), "note": note[:300], "created_by": actor},
    )
    audit_log(
        tenant=tenant,
        actor=actor,
        action="blocklist.added",
        target=entry,
        data={"kind": kind, "display": entry.display},
        note=note,
    )
    return entry


@transaction.atomic
def blocklist_remove(*, entry: BlockedIdentifier, actor) -> None:
    reviewer_require(entry.tenant, actor)
    audit_log(
        tenant=entry.tenant,
        actor=actor,
        action="blocklist.removed",
        data={"kind": entry.kind, "display": entry.display},
    )
    entry.delete()


# --- leaked codes ------------------------------------------------------------------------


def codes_detect_leaks(*, tenant, now=None) -> list[str]:
    """Flag this tenant's codes used far beyond their owner's normal reach this week."""
    from collections import Counter, defaultdict
    from datetime import timedelta

    from tracking.models import Click, Referral

    from .backtest import CodeUsage, is_coupon_site, leak_reasons
    from .models import CodeFlag

    now = now or clock.now()
    week_ago = now - timedelta(days=7)
    history_start = now - timedelta(days=63)
    referrals = Referral.objects.for_tenant(tenant).exclude(code="")
    this_week = Counter(referrals.filter(created_at__gte=week_ago).values_list("code", flat=True))
    before = Counter(
        referrals.filter(created_at__gte=history_start, created_at__lt=week_ago).values_list(
            "code", flat=True
        )
    )
    clicks: dict[str, list] = defaultdict(list)
    for code, created_at, referer in (
        Click.objects.for_tenant(tenant)
        .filter(created_at__gte=week_ago, is_bot=False)
        .values_list("code", "created_at", "referer")
    ):
        clicks[code].append((created_at, referer))
    already = set(CodeFlag.objects.for_tenant(tenant).values_list("code", flat=True))
    flagged = []
    for code in (set(this_week) | set(clicks)) - already:
        seen = clicks.get(code, [])
        per_hour = Counter(at.replace(minute=0, second=0, microsecond=0) for at, _ in seen)
        usage = CodeUsage(
            referrals_week=this_week.get(code, 0),
            usual_referrals_week=before.get(code, 0) / 8,
            clicks_week=len(seen),
            coupon_site_clicks=sum(1 for _, referer in seen if is_coupon_site(referer)),
            max_clicks_hour=max(per_hour.values(), default=0),
        )
        reasons = leak_reasons(usage)
        if reasons:
            code_flag(tenant=tenant, code=code, reasons=reasons, now=now)
            flagged.append(code)
    return flagged


@transaction.atomic
def code_flag(*, tenant, code: str, reasons: list[str], now=None):
    from tracking.models import ReferralCode

    from .models import CodeFlag

    row = ReferralCode.objects.for_tenant(tenant).filter(code=code).first()
    flag, created = CodeFlag.unscoped.get_or_create(
        tenant=tenant,
        code=code,
        defaults={
            "enrollment_id": row.enrollment_id if row else None,
            "reasons": reasons,
            "flagged_at": now or clock.now(),
        },
    )
    if created:
        audit_log(
            tenant=tenant,
            actor=None,
            action="code.flagged",
            target=flag,
            data={"code": code, "reasons": reasons},
        )
    return flag


@transaction.atomic
def code_flag_resolve(*, flag, action: str, actor):
    """`rotate` the leaked code (tracking keeps the old one resolving to the standard offer)
    or `dismiss` the flag."""
    from .models import CodeFlag, CodeFlagStatus

    reviewer_require(flag.tenant, actor)
    flag = CodeFlag.objects.for_tenant(flag.tenant_id).select_for_update().get(pk=flag.pk)
    if flag.status != CodeFlagStatus.OPEN:
        raise Conflict(_("This flag was already handled."), code="flag_resolved")
    if action == "rotate":
        code = ReferralCode.objects.for_tenant(flag.tenant_id).filter(code=flag.code).first()
        if code is None:
            raise Conflict(_("This code cannot be rotated here."), code="rotate_unavailable")
        code_rotate(code=code, actor=actor)
        flag.status = CodeFlagStatus.ROTATED
    elif action == "dismiss":
        flag.status = CodeFlagStatus.DISMISSED
    else:
        raise ValidationFailed(_("Rotate or dismiss."), fields={"action": [_("rotate or dismiss")]})
    flag.resolved_by = actor
    flag.resolved_at = clock.now()
    flag.save(update_fields=["status", "resolved_by", "resolved_at"])
    audit_log(
        tenant=flag.tenant,
        actor=actor,
        action=f"code.{flag.status}",
        target=flag,
        data={"code": flag.code},
    )
    return flag
