"""Reads of the fraud app: policy in force, what the referrer may see, queues, evidence."""

from __future__ import annotations

from django.utils.translation import gettext as _

from .models import Assessment, CaseStatus, Dispute, FraudPolicy, ReviewCase
from .signals import Policy


def policy_for(tenant, program_id: int | None) -> Policy:
    """Built-in defaults, overridden by the tenant's policy, then by the program's."""
    policy = Policy()
    rows = {
        row.program_id: row
        for row in FraudPolicy.objects.for_tenant(tenant).filter(program_id__in=[program_id])
        | FraudPolicy.objects.for_tenant(tenant).filter(program=None)
    }
    for key in (None, program_id):
        row = rows.get(key)
        if row is not None:
            policy = policy.merged(
                review_threshold=row.review_threshold,
                reject_threshold=row.reject_threshold,
                weights=row.weights,
                forces=row.forces,
            )
    return policy


def latest_assessment(referral) -> Assessment | None:
    return (
        Assessment.objects.for_tenant(referral.tenant_id)
        .filter(referral=referral)
        .order_by("-created_at", "-pk")
        .first()
    )


def referral_fraud_decision(referral) -> str:
    """The decision the rule engine reads (`ReferralFacts.fraud_decision`).

    Fails closed: a referral that was never assessed counts as `review`, so its cash
    waits until an assessment (or a person) clears it.
    """
    if referral.status == "rejected":
        return "reject"
    if referral.status == "review":
        return "review"
    assessment = latest_assessment(referral)
    if assessment is None:
        return "review"
    return assessment.decision


def assessment_summary(referral) -> dict | None:
    """The fraud part of `GET /referrals/{id}`."""
    assessment = latest_assessment(referral)
    if assessment is None:
        return None
    case = ReviewCase.objects.for_tenant(referral.tenant_id).filter(referral=referral).first()
    return {
        "stage": assessment.stage_key,
        "score": assessment.score,
        "decision": assessment.decision,
        "signals": [
            {"code": s["code"], "weight": s["weight"], "reason": s["reason"]}
            for s in assessment.signals
        ],
        "assessed_at": assessment.created_at.isoformat(),
        "review": (
            {
                "status": case.status,
                "due_at": case.due_at.isoformat(),
                "decided_at": case.decided_at.isoformat() if case.decided_at else None,
            }
            if case
            else None
        ),
    }


def referrer_facing_status(referral) -> str:
    """What the referrer is told about a referral. Never says "fraud" or "review": a
    rejected referral is "not eligible", one under review is still "being confirmed"."""
    labels = {
        "pending": _("Signed up"),
        "qualified": _("Qualified"),
        "converted": _("Converted"),
        "retained": _("Retained"),
        "review": _("Being confirmed"),
        "rejected": _("Not eligible for a reward"),
    }
    return str(labels.get(referral.status, _("Signed up")))


def dispute_list_for_participant(participant):
    return (
        Dispute.objects.for_tenant(participant.tenant_id)
        .filter(participant=participant)
        .order_by("-opened_at", "-pk")
    )


def open_case_count(tenant) -> int:
    return ReviewCase.objects.for_tenant(tenant).filter(status=CaseStatus.OPEN).count()
