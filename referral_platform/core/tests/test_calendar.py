from datetime import date, datetime, timedelta, timezone

from referral_platform.core.calendar import (
    TenantCalendar,
    date_range_bounds,
    due_at,
    period_bounds,
    period_key,
)

SH = TenantCalendar.from_lists("Asia/Shanghai")
UTC = timezone.utc


def test_seven_day_hold_is_exactly_168_hours():
    anchor = datetime(2026, 1, 28, 15, 0, tzinfo=UTC)
    assert due_at(anchor, SH, days=7) - anchor == timedelta(hours=168)


def test_purchase_on_28_january_with_7_day_hold_is_a_february_success():
    anchor = datetime(2026, 1, 28, 12, 0, tzinfo=UTC)
    assert period_key(due_at(anchor, SH, days=7), "month", SH) == "2026-02"


def test_period_key_uses_tenant_local_time_across_midnight():
    # 2026-03-31 17:30 UTC is 2026-04-01 01:30 in Shanghai: April and Q2 there.
    when = datetime(2026, 3, 31, 17, 30, tzinfo=UTC)
    assert period_key(when, "month", SH) == "2026-04"
    assert period_key(when, "quarter", SH) == "2026-Q2"
    assert period_key(when, "month", TenantCalendar()) == "2026-03"
    assert period_key(when, "lifetime", SH) == "lifetime"


def test_period_bounds_are_half_open_local_midnights_in_utc():
    start, end = period_bounds("2026-Q1", SH)
    assert start == datetime(2025, 12, 31, 16, 0, tzinfo=UTC)
    assert end == datetime(2026, 3, 31, 16, 0, tzinfo=UTC)
    assert period_key(end - timedelta(microseconds=1), "quarter", SH) == "2026-Q1"
    assert period_key(end, "quarter", SH) == "2026-Q2"


def test_business_days_skip_weekends_holidays_and_honour_makeup_days():
    cal = TenantCalendar.from_lists(
        "Asia/Shanghai",
        holidays=["2026-10-01", "2026-10-02", "2026-10-05"],
        workdays=["2026-10-10"],
    )
    # Wednesday 30 Sep 10:00 local + 2 business days: Thu 1 and Fri 2 are holidays,
    # Sat 3 / Sun 4 weekend, Mon 5 holiday → Tue 6, Wed 7.
    anchor = datetime(2026, 9, 30, 2, 0, tzinfo=UTC)
    assert due_at(anchor, cal, business_days=2) == datetime(2026, 10, 7, 2, 0, tzinfo=UTC)
    # Friday 9 Oct + 1 business day: Saturday 10 Oct is a make-up working day.
    assert due_at(datetime(2026, 10, 9, 2, 0, tzinfo=UTC), cal, business_days=1) == datetime(
        2026, 10, 10, 2, 0, tzinfo=UTC
    )


def test_api_date_range_is_inclusive_of_both_local_dates():
    start, end = date_range_bounds(date(2026, 3, 1), date(2026, 3, 31), SH)
    assert start == datetime(2026, 2, 28, 16, 0, tzinfo=UTC)
    assert end == datetime(2026, 3, 31, 16, 0, tzinfo=UTC)
