"""Analytics tasks: a tenant's rollup refresh on demand, and large CSV exports."""

from __future__ import annotations

from referral_platform.core.tasks import task


@task("analytics.rollups_update", soft_time_limit=600, time_limit=660)
def rollups_update_task(tenant_id: int) -> dict:
    from referral_platform.tenancy.models import Tenant

    from .rollups import rollups_update

    tenant = Tenant.objects.filter(pk=tenant_id).first()
    if tenant is None:
        return {"skipped": "no such tenant"}
    return rollups_update(tenant=tenant)


@task("analytics.export_run", soft_time_limit=1800, time_limit=1860)
def export_run_task(tenant_id: int, job_id: int) -> str:
    from .exports import export_run

    return export_run(tenant_id=tenant_id, job_id=job_id)
