"""Fraud's periodic jobs (run by `tick`, beat's core.tick and the embedded loop)."""

from __future__ import annotations

import logging
from datetime import timedelta

from referral_platform.core import clock
from referral_platform.core.periodic import periodic_job
from referral_platform.tenancy.models import Tenant

logger = logging.getLogger(__name__)

# A referral left unassessed this long was missed (a crash between tracking's write and the
# assessment); its cash is held by `referral_fraud_decision` until this sweep scores it.
UNASSESSED_GRACE = timedelta(minutes=5)


@periodic_job("fraud.assess_missed", order=20)
def assess_missed(limit: int = 200) -> dict:
    from tracking.models import Referral

    from .services import assessment_run

    cutoff = clock.now() - UNASSESSED_GRACE
    missed = (
        Referral.unscoped.filter(received_at__lte=cutoff, assessments__isnull=True)
        .exclude(status__in=["review", "rejected"])
        .select_related("tenant", "program", "referrer", "referee")
        .order_by("received_at")[:limit]
    )
    done = 0
    for referral in missed:
        assessment = assessment_run(referral=referral, stage_key="signup")
        if assessment.decision == "approve":
            from .services import _rewards_call

            # Its cash was held as "review" while unassessed; now it may go.
            _rewards_call("rewards_release_after_review", referral=referral, actor=None)
        done += 1
    return {"assessed": done}


REFUND_LOOKBACK = timedelta(days=2)


@periodic_job("fraud.assess_refunds", order=25)
def assess_refunds(limit: int = 500) -> dict:
    """Score a referral again when its referee refunds: tracking assesses at sign-up and at
    paying stages, but a refund right after the reward's hold, or a referrer whose friends
    keep refunding, only shows afterwards. One assessment per refund event."""
    from tracking.models import Event, Referral

    from .models import Assessment
    from .services import assessment_run

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
            assessment_run(referral=referral, stage_key=stage_key)
            done += 1
    return {"assessed": done}


@periodic_job("fraud.detect_leaked_codes", order=120)
def detect_leaked_codes() -> dict:
    from .services import codes_detect_leaks

    flagged = 0
    for tenant in Tenant.objects.all().iterator():
        flagged += len(codes_detect_leaks(tenant=tenant))
    return {"flagged": flagged}
