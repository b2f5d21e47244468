"""The incremental rollups equal a rebuild from raw rows, late events included."""

from __future__ import annotations

from datetime import date, timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command

from analytics import rollups, selectors
from analytics.models import (
    CustomerDaily,
    CustomerFact,
    DailyRollup,
    ReferrerDaily,
    RollupState,
)
from analytics.selectors import Filters
from fraud.models import ReviewCase
from referral_platform.core.periodic import jobs
from tracking.models import Referral, ReferralStage

from . import factories as f

NOW = f.at("2026-04-05", 0)
MARCH = (date(2026, 3, 1), date(2026, 3, 31))


def _dump(tenant) -> tuple:
    daily = sorted(
        DailyRollup.objects.for_tenant(tenant).values_list(
            "program_id", "day", "channel", "region", "segment", "shares", "clicks", "signups",
            "qualified", "converted", "retained", "rewarded", "assessed", "rejected",
            "enrollments", "rewards_fulfilled", "reward_cost_minor", "cost_by_kind", "coverage",
        ),
        key=repr,
    )  # fmt: skip
    referrers = sorted(
        ReferrerDaily.objects.for_tenant(tenant).values_list(
            "program_id", "day", "participant_id", "region", "segment", "shares", "clicks",
            "referrals", "successes",
        )
    )  # fmt: skip
    customers = sorted(
        CustomerFact.objects.for_tenant(tenant).values_list(
            "participant_id", "signup_day", "referral_id", "program_id", "excluded",
            "retained_90d", "first_purchase_day", "first_purchase_revenue_minor",
            "repurchased_60d", "ltv_365d_minor",
        ),
        key=repr,
    )  # fmt: skip
    customer_days = sorted(
        CustomerDaily.objects.for_tenant(tenant).values_list(
            "day", "basis", "group", "program_id", "region", "segment", "customers",
            "retained_90d", "ltv_365d_minor", "repurchased_60d", "revenue_minor",
        ),
        key=repr,
    )  # fmt: skip
    return daily, referrers, customers, customer_days


def _late_changes(tenant, d) -> None:
    """What the other apps would write a day later: a late refund reversing F3's paid stage,
    a late share, a new click, a new referral with its sign-up, a clawback, a rejection."""
    f.event(d.e3, "refund", f.at("2026-03-09"), amount=20000, order_id="o-e3-1")
    ReferralStage.unscoped.filter(referral=d.f3, stage_key="paid").update(
        reversed_at=f.at("2026-03-09")
    )
    Referral.unscoped.filter(pk=d.f3.pk).update(status="qualified", reversed_at=f.at("2026-03-09"))
    f.event(d.r2, "share", f.at("2026-03-15"), properties={"channel": "sms"})
    f.click(d.prog, d.en2, NOW + timedelta(days=1), source="telegram")
    e10 = f.person(tenant, "E10")
    f10 = f.referral(d.prog, d.r1, e10, f.at("2026-03-25"), status="converted")
    f.stage(f10, "paid", "converted", f.at("2026-03-26"))
    f.event(e10, "signup", f.at("2026-03-25"))
    f.event(e10, "purchase", f.at("2026-03-26"), amount=3000, order_id="o-e10")
    f.reward(d.f1, kind="cash", amount_minor=400, status="reversed",
             fulfilled_at=f.at("2026-03-19"), reversed_at=NOW + timedelta(days=1))  # fmt: skip
    Referral.unscoped.filter(pk=d.f8.pk).update(status="rejected")
    ReviewCase.unscoped.filter(referral=d.f8).update(
        status="rejected", decided_at=NOW + timedelta(days=1)
    )


def test_incremental_rollups_after_late_changes_equal_a_rebuild_from_raw_rows(tenant):
    with time_machine.travel(NOW, tick=False):
        d = f.build(tenant)
        first = rollups.rollups_update(tenant=tenant)  # no watermark yet: a rebuild
    assert first["customers"] == 10  # E1–E6 and B1–B4 sent a sign-up
    before = selectors.funnel_counts(tenant=tenant, filters=Filters(*MARCH, program=d.prog))
    assert (before.signups, before.converted, before.shares) == (3, 3, 3)

    with time_machine.travel(NOW + timedelta(days=1, hours=1), tick=False):
        _late_changes(tenant, d)
        result = rollups.rollups_update(tenant=tenant)
    assert result["days"] > 0
    incremental = _dump(tenant)
    after = selectors.funnel_counts(tenant=tenant, filters=Filters(*MARCH, program=d.prog))
    # Sign-ups F1, F2, F3 + F10; converted F1, F6, F10 (F3's refund reversed its stage);
    # shares + the late 15 March SMS share.
    assert (after.signups, after.converted, after.shares) == (4, 3, 4)
    k = selectors.kpis_get(
        tenant=tenant, filters=Filters(*MARCH, program=d.prog), now=NOW + timedelta(days=1)
    )
    # 8700 + 400 fulfilled on 19 Mar; the clawback (6 Apr) is outside March.
    assert k["reward_cost"]["amount_minor"] == 9100

    with time_machine.travel(NOW + timedelta(days=1, hours=2), tick=False):
        rollups.rollups_rebuild(tenant=tenant)
    assert _dump(tenant) == incremental


def test_running_the_update_twice_changes_nothing(tenant):
    with time_machine.travel(NOW, tick=False):
        f.build(tenant)
        rollups.rollups_rebuild(tenant=tenant)
        once = _dump(tenant)
        rollups.rollups_update(tenant=tenant)
    assert _dump(tenant) == once


def test_the_periodic_job_is_registered_and_keeps_a_watermark_per_tenant(tenant, other_tenant):
    assert "analytics.rollups" in dict(jobs())
    with time_machine.travel(NOW, tick=False):
        f.build(tenant)
        result = dict(jobs())["analytics.rollups"]()
    assert result["tenants"] == 2
    assert RollupState.unscoped.filter(tenant=tenant).get().watermark == NOW
    assert DailyRollup.unscoped.filter(tenant=other_tenant).count() == 0


def test_rebuild_rollups_command_prints_what_it_wrote(tenant):
    with time_machine.travel(NOW, tick=False):
        f.build(tenant)
        out = StringIO()
        call_command("rebuild_rollups", "--tenant", "acme", stdout=out)
    assert out.getvalue().startswith("tenant=acme rows=")
    assert "customers=10" in out.getvalue()


@pytest.mark.parametrize("shares", [[None, None], [0.9]])
def test_coverage_alert_needs_two_known_weeks(shares):
    assert selectors.coverage_alert(shares, 8000) is False


def test_coverage_alert_fires_when_the_last_week_drops_below_the_threshold():
    # Mean of the four weeks before: 0.9; 80% of it is 0.72.
    assert selectors.coverage_alert([0.9, 0.9, 0.9, 0.9, 0.71], 8000) is True
    assert selectors.coverage_alert([0.9, 0.9, 0.9, 0.9, 0.73], 8000) is False
