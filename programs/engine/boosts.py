"""When a boost is in force: fixed dates, every year in a month or an ISO week, or the
program's first N days. Months and weeks are the tenant's local calendar (SEMANTICS §1)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from referral_platform.core.calendar import TenantCalendar, local


def boost_in_force(boost: Mapping, at: datetime, spec: Mapping, cal: TenantCalendar) -> bool:
    """Whether `boost` applies to something anchored at `at` (half-open windows)."""
    from .rewards import parse_dt

    if boost.get("starts_at") and boost.get("ends_at"):
        return parse_dt(boost["starts_at"]) <= at < parse_dt(boost["ends_at"])
    yearly = boost.get("every_year")
    if yearly:
        day = local(at, cal).date()
        if "month" in yearly:
            return day.month == yearly["month"]
        return day.isocalendar().week == yearly["iso_week"]
    if boost.get("first_days"):
        starts = parse_dt(spec.get("starts_at"))
        return starts is not None and starts <= at < starts + timedelta(days=boost["first_days"])
    return False
