"""Fraud's periodic jobs (run by `tick`, beat's core.tick and the embedded loop). The jobs
that score and then change a referral and its rewards are the flow's (`pipeline.jobs`)."""

from __future__ import annotations

import logging

from referral_platform.tenancy.models import Tenant

logger = logging.getLogger(__name__)


def detect_leaked_codes() -> dict:
    from .services import codes_detect_leaks

    flagged = 0
    for tenant in Tenant.objects.all().iterator():
        flagged += len(codes_detect_leaks(tenant=tenant))
    return {"flagged": flagged}
