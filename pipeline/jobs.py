"""The flow's periodic jobs: events the broker never delivered, referrals whose assessment
was missed, refunds to score again. Listed in `referral_platform/schedule.py`."""

from __future__ import annotations

from datetime import timedelta

from fraud.models import Assessment
from referral_platform.core import clock
from rewards import services as rewards_services
from tracking.models import Event, Referral

from . import flow

# A referral left unassessed this long was missed (a crash between tracking's write and the
# assessment); its cash is held by `referral_fraud_decision` until this job scores it.
UNASSESSED_GRACE = timedelta(minutes=5)
REFUND_LOOKBACK = timedelta(days=2)


def events_sweep() -> dict:
    return flow.events_sweep()


def assess_missed(limit: int = 200) -> dict:
    cutoff = clock.now() - UNASSESSED_GRACE
    missed = (
        Referral.unscoped.filter(received_at__lte=cutoff, assessments__isnull=True)
        .exclude(status__in=["review", "rejected"])
        .select_related("tenant", "program", "referrer", "referee")
        .order_by("received_at")[:limit]
    )
    done = 0
    for referral in missed:
        assessment = flow.assessment_run(referral=referral, stage_key="signup")
        if assessment.decision == "approve":
            # Its cash was held as "review" while unassessed; now it may go.
            rewards_services.rewards_release_after_review(referral=referral, actor=None)
        done += 1
    return {"assessed": done}


def assess_refunds(limit: int = 500) -> dict:
    """Score a referral again when its referee refunds: the flow assesses at sign-up and at
    paying stages, but a refund right after the reward's hold, or a referrer whose friends
    keep refunding, only shows afterwards. One assessment per refund event."""
    since = clock.now() - REFUND_LOOKBACK
    refunds = (
        Event.unscoped.filter(
            type="refund", status="processed", received_at__gte=since, participant__isnull=False
        )
        .values_list("pk", "tenant_id", "participant_id")
        .order_by("received_at")[:limit]
    )
    done = 0
    for event_pk, tenant_id, participant_id in refunds:
        stage_key = f"refund:{event_pk}"
        for referral in Referral.unscoped.filter(
            tenant_id=tenant_id, referee_id=participant_id
        ).select_related("tenant", "program", "referrer", "referee"):
            if Assessment.unscoped.filter(
                tenant_id=tenant_id, referral=referral, stage_key=stage_key
            ).exists():
                continue
            flow.assessment_run(referral=referral, stage_key=stage_key)
            done += 1
    return {"assessed": done}
