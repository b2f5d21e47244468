from __future__ import annotations

from datetime import date, timedelta

TZ = "+08:00"


def at(day: date) -> str:
    """Tenant-local midnight (the demo tenants are in Asia/Shanghai)."""
    return f"{day.isoformat()}T00:00:00{TZ}"


def window(start: date, end_inclusive: date) -> dict:
    return {"starts_at": at(start), "ends_at": at(end_inclusive + timedelta(days=1))}


def first_full_week(year: int, month: int) -> tuple[date, date]:
    day = date(year, month, 1)
    while day.weekday() != 0:
        day += timedelta(days=1)
    return day, day + timedelta(days=6)


def month_end(year: int, month: int) -> date:
    nxt = date(year + (month == 12), month % 12 + 1, 1)
    return nxt - timedelta(days=1)


def not_a_customer_yet() -> dict:
    return {
        "any": [
            {"not": {"field": "orders_count", "op": "exists"}},
            {"field": "orders_count", "op": "eq", "value": 0},
        ]
    }


def ambassador(key: str) -> dict:
    # From the guide: ≥ 5 referrals with ≥ 50% of them retained.
    return {
        "min_referrals": 5,
        "min_retained_percent": 50,
        "reward": {
            "key": key,
            "kind": "perk",
            "side": "referrer",
            "description": "Ambassador status",
        },
    }
