"""Keeps the rollups current: run by `tick`, beat's `core.tick` and the embedded loop, after
tracking's and rewards' sweeps so a tick's own changes are already in the raw rows."""

from __future__ import annotations

from referral_platform.core.periodic import periodic_job


@periodic_job("analytics.rollups", order=900)
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
