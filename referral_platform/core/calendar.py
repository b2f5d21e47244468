"""The one calendar helper (SEMANTICS §0–1).

Holds become `due_at`; times become tenant-local period keys (`2026-03`, `2026-Q1`,
`2026`, `lifetime`). Periods are half-open `[start, end)` in the tenant's local time
and returned in UTC. Nothing else in the code base computes these.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from datetime import timezone as dt_timezone
from zoneinfo import ZoneInfo

PERIODS = ("day", "week", "month", "quarter", "year", "season", "lifetime")
LIFETIME = "lifetime"


@dataclass(frozen=True)
class TenantCalendar:
    """A tenant's time zone and holiday calendar, as plain data."""

    timezone: str = "UTC"
    holidays: frozenset[date] = field(default_factory=frozenset)
    # Make-up working days (China's 调休): weekend days that are working days.
    workdays: frozenset[date] = field(default_factory=frozenset)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @classmethod
    def from_lists(cls, timezone: str, holidays=(), workdays=()) -> TenantCalendar:
        return cls(
            timezone=timezone,
            holidays=frozenset(_as_date(d) for d in holidays),
            workdays=frozenset(_as_date(d) for d in workdays),
        )


def _as_date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _aware(when: datetime) -> datetime:
    if when.tzinfo is None:
        raise ValueError("naive datetimes are not allowed")
    return when


def local(when: datetime, cal: TenantCalendar) -> datetime:
    return _aware(when).astimezone(cal.tz)


def is_business_day(day: date, cal: TenantCalendar) -> bool:
    if day in cal.workdays:
        return True
    if day in cal.holidays:
        return False
    return day.weekday() < 5


def add_business_days(when: datetime, days: int, cal: TenantCalendar) -> datetime:
    """`days` business days after `when`, keeping the local time of day."""
    moment = local(when, cal)
    day = moment.date()
    remaining = days
    while remaining > 0:
        day += timedelta(days=1)
        if is_business_day(day, cal):
            remaining -= 1
    naive = datetime.combine(day, moment.timetz().replace(tzinfo=None))
    return naive.replace(tzinfo=cal.tz).astimezone(dt_timezone.utc)


def due_at(
    anchor: datetime,
    cal: TenantCalendar,
    *,
    days: int = 0,
    hours: int = 0,
    business_days: int = 0,
) -> datetime:
    """When a hold anchored at `anchor` ends. Calendar days are exact durations (7 d = 168 h)."""
    result = _aware(anchor).astimezone(dt_timezone.utc) + timedelta(days=days, hours=hours)
    if business_days:
        result = add_business_days(result, business_days, cal)
    return result


def period_key(when: datetime, period: str, cal: TenantCalendar) -> str:
    """The key of the tenant-local period containing `when`. A season is a quarter."""
    if period == LIFETIME:
        return LIFETIME
    moment = local(when, cal)
    if period == "day":
        return moment.date().isoformat()
    if period == "week":
        year, week, _ = moment.isocalendar()
        return f"{year}-W{week:02d}"
    if period == "month":
        return f"{moment.year}-{moment.month:02d}"
    if period in ("quarter", "season"):
        return f"{moment.year}-Q{(moment.month - 1) // 3 + 1}"
    if period == "year":
        return f"{moment.year}"
    raise ValueError(f"unknown period {period!r}")


def _local_midnight(day: date, cal: TenantCalendar) -> datetime:
    return datetime.combine(day, time()).replace(tzinfo=cal.tz).astimezone(dt_timezone.utc)


def period_bounds(key: str, cal: TenantCalendar) -> tuple[datetime, datetime]:
    """`[start, end)` in UTC of the tenant-local period named by `key`."""
    if key == LIFETIME:
        return (
            datetime(1970, 1, 1, tzinfo=dt_timezone.utc),
            datetime(9999, 1, 1, tzinfo=dt_timezone.utc),
        )
    if "-W" in key:
        year, week = key.split("-W")
        start = date.fromisocalendar(int(year), int(week), 1)
        end = start + timedelta(days=7)
    elif "-Q" in key:
        year, quarter = key.split("-Q")
        start = date(int(year), 3 * (int(quarter) - 1) + 1, 1)
        end = _add_months(start, 3)
    elif key.count("-") == 2:
        start = date.fromisoformat(key)
        end = start + timedelta(days=1)
    elif key.count("-") == 1:
        year, month = key.split("-")
        start = date(int(year), int(month), 1)
        end = _add_months(start, 1)
    else:
        start = date(int(key), 1, 1)
        end = date(int(key) + 1, 1, 1)
    return _local_midnight(start, cal), _local_midnight(end, cal)


def _add_months(day: date, months: int) -> date:
    month_index = day.month - 1 + months
    return date(day.year + month_index // 12, month_index % 12 + 1, 1)


def date_range_bounds(start: date, end: date, cal: TenantCalendar) -> tuple[datetime, datetime]:
    """API `from`/`to` are tenant-local dates, both inclusive: `[from 00:00, to+1 00:00)`."""
    if end < start:
        raise ValueError("`to` is before `from`")
    return _local_midnight(start, cal), _local_midnight(end + timedelta(days=1), cal)


def local_date(when: datetime, cal: TenantCalendar) -> date:
    return local(when, cal).date()
