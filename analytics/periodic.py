"""Keeps the rollups current: run by `tick`, beat's `core.tick` and the embedded loop, after
tracking's and rewards' sweeps so a tick's own changes are already in the raw rows."""

from __future__ import annotations


def rollups_job() -> dict:
    from referral_platform.tenancy.models import Tenant

    from .rollups import rollups_update

    done: dict[str, int] = {"tenants": 0, "days": 0, "customers": 0}
    for tenant in Tenant.objects.order_by("pk"):
        result = rollups_update(tenant=tenant)
        done["tenants"] += 1
        done["days"] += result.get("days", 0)
        done["customers"] += result.get("customers", 0)
    return done


def exports_job() -> int:
    """Send again the exports still queued a while after they were asked for: their task was
    lost (the broker was down). Running a job twice is harmless: it is claimed."""
    from datetime import timedelta

    from referral_platform.core import clock
    from referral_platform.core.tasks import enqueue_on_commit

    from .models import ExportJob, ExportStatus
    from .tasks import export_run_task

    stale = ExportJob.unscoped.filter(
        status=ExportStatus.QUEUED, created_at__lt=clock.now() - timedelta(minutes=2)
    ).values_list("tenant_id", "pk")[:100]
    stale = list(stale)
    for tenant_id, job_id in stale:
        enqueue_on_commit(export_run_task, tenant_id, job_id)
    return len(stale)
