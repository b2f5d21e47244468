"""Every funnel step and KPI on the hand-built March (factories.build) equals the number
worked out by hand here. The tenant is in Asia/Shanghai (UTC+8)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
import time_machine

from analytics import rollups, selectors
from analytics.kpis import (
    FunnelCounts,
    KpiInputs,
    funnel_steps,
    kpis_compute,
    ratio,
    reward_value,
)
from analytics.selectors import Filters

from . import factories as f

NOW = f.at("2026-04-05", 0)
# A year after March: every cohort measure of a March customer is final.
MATURE = f.at("2027-04-01", 0)
MARCH = (date(2026, 3, 1), date(2026, 3, 31))


@pytest.fixture
def data(tenant):
    with time_machine.travel(NOW, tick=False):
        d = f.build(tenant)
        rollups.rollups_rebuild(tenant=tenant)
    return d


def _funnel(tenant, **kw):
    return selectors.funnel_counts(tenant=tenant, filters=Filters(*MARCH, **kw)).as_dict()


def test_reward_value_follows_the_cost_definition_for_each_kind():
    pv = {"amount": 5, "per_points": 1}
    assert (
        reward_value(kind="cash", amount_minor=5000, points=None, details={}, point_value=pv)
        == 5000
    )
    # A percent coupon costs its computed amount, not its cap.
    assert (
        reward_value(
            kind="coupon",
            amount_minor=None,
            points=None,
            details={"percent_off": 10, "computed_amount": 1200, "max_amount": 3000},
            point_value=pv,
        )
        == 1200
    )
    assert (
        reward_value(kind="points", amount_minor=None, points=300, details={}, point_value=pv)
        == 300 * 5
    )
    # Without a point value points cost nothing (the program did not price them).
    assert (
        reward_value(kind="points", amount_minor=None, points=300, details={}, point_value=None)
        == 0
    )
    assert (
        reward_value(
            kind="points",
            amount_minor=None,
            points=7,
            details={},
            point_value={"amount": 1, "per_points": 2},
        )  # fmt: skip
        == 3
    )
    assert (
        reward_value(
            kind="credit",
            amount_minor=None,
            points=None,
            details={"estimated_value": 2000},
            point_value=pv,
        )  # fmt: skip
        == 2000
    )
    assert (
        reward_value(
            kind="lottery_ticket", amount_minor=None, points=None, details={}, point_value=pv
        )
        == 0
    )


def test_funnel_steps_give_each_step_its_rate_from_the_previous_one():
    steps = funnel_steps(FunnelCounts(shares=10, clicks=40, signups=8, qualified=4, converted=2))
    assert [s["count"] for s in steps] == [10, 40, 8, 4, 2, 0, 0]
    assert steps[0]["rate_from_previous"] is None
    assert steps[2]["rate_from_previous"] == Decimal("0.2000")  # 8 / 40
    assert steps[6]["rate_from_previous"] is None  # 0 / 0 is undefined, not 0%


def test_ratios_of_nothing_are_undefined_rather_than_zero():
    assert ratio(0, 0) is None
    out = kpis_compute(KpiInputs(currency="CNY", funnel=FunnelCounts()))
    assert out["conversion_rate"] is None
    assert out["cost_per_referred_customer"] is None
    assert out["reward_cost"] == {"amount_minor": 0, "currency": "CNY"}


def test_funnel_of_a_program_for_march_matches_the_hand_count(data, tenant):
    assert _funnel(tenant, program=data.prog) == {
        # 1 Mar 01:00 local (28 Feb 17:00 UTC), 2 Mar, 3 Mar; the 1 Apr 00:30 share is out.
        "shares": 3,
        # c1, c2, c3, c4; the bot click, the bot-UA click and the 28 Feb click are out.
        "clicks": 4,
        # F1, F2, F3 (F4 rejected; F5 is 1 Apr locally; F6 was created in February).
        "signups": 3,
        # F1 (4 Mar), F3 (5 Mar).
        "qualified": 2,
        # F1 (6 Mar), F3 (7 Mar), F6 (2 Mar); F2's was refunded, F4 is rejected.
        "converted": 3,
        "retained": 1,  # F1 (20 Mar)
        # First fulfilment: F1 (14 Mar), F3 (15 Mar), F6 (16 Mar); F5's is in April.
        "rewarded": 3,
    }


def test_funnel_for_all_programs_adds_the_other_programs_referrals(data, tenant):
    funnel = _funnel(tenant)
    assert funnel["converted"] == 3 + 1  # F9 in `other` converted on 11 Mar
    assert funnel["signups"] == 3 + 1


def test_funnel_of_a_date_range_counts_by_the_local_day_each_step_was_reached(data, tenant):
    funnel = selectors.funnel_counts(
        tenant=tenant, filters=Filters(date(2026, 3, 1), date(2026, 3, 5), program=data.prog)
    ).as_dict()
    assert funnel == {
        "shares": 3,  # 1, 2 and 3 March
        "clicks": 4,  # c1, c2 (2 Mar), c4 (3 Mar), c3 (5 Mar)
        "signups": 3,  # F1 (2nd), F3 (3rd), F2 (5th)
        "qualified": 2,  # F1 (4th), F3 (5th)
        "converted": 1,  # only F6 (2nd); F1 and F3 converted on the 6th and 7th
        "retained": 0,
        "rewarded": 0,
    }


def test_funnel_of_a_channel_follows_the_click_source_into_signups(data, tenant):
    assert _funnel(tenant, program=data.prog, channel="wechat") == {
        "shares": 2,  # R1's two WeChat shares
        "clicks": 2,  # c1, c2
        "signups": 1,  # F1 came through c1, a WeChat click
        "qualified": 1,
        "converted": 1,
        "retained": 1,
        "rewarded": 1,
    }
    assert _funnel(tenant, program=data.prog, channel="code") == {
        "shares": 0, "clicks": 0, "signups": 1, "qualified": 1, "converted": 1,
        "retained": 0, "rewarded": 1,
    }  # fmt: skip


def test_funnel_of_a_segment_and_of_a_region_uses_the_referrers(data, tenant):
    vip = {
        "shares": 2,  # R1's
        "clicks": 3,  # c1, c2, c3
        "signups": 2,  # F1, F2
        "qualified": 1,
        "converted": 1,  # F1 (F2 reversed)
        "retained": 1,
        "rewarded": 1,
    }
    assert _funnel(tenant, program=data.prog, segment="vip") == vip
    # R1 is the only active south-china referrer (R3 did nothing), so the pilot = R1.
    assert _funnel(tenant, program=data.prog, region="south-china") == vip
    assert _funnel(tenant, program=data.prog, region="north") == {
        "shares": 1, "clicks": 1, "signups": 1, "qualified": 1,
        "converted": 2,  # F3, F6
        "retained": 0,
        "rewarded": 2,  # F3, F6
    }  # fmt: skip


def test_every_kpi_of_a_program_for_march_matches_the_hand_computation(data, tenant):
    k = selectors.kpis_get(tenant=tenant, filters=Filters(*MARCH, program=data.prog), now=NOW)
    # New customers in March (local): E1, E2, E3, E4, B1, B2, B3 = 7 (E5, B4 are 1 April).
    assert k["referral_share"] == Decimal("0.4286")  # 3 referrals / 7
    assert k["conversion_rate"] == Decimal("0.7500")  # 3 converted / 4 clicks
    assert k["referrals_per_referrer"] == Decimal("1.5000")  # (F1, F2, F3) / (R1, R2)
    # R1 and R2 shared or were clicked; R1, R2, R3 are enrolled and eligible (R4 is not).
    assert k["participation_rate"] == Decimal("0.6667")
    # Fulfilled: 5000 + 1200 (10% coupon) + 1000 + 300 pts × 5 + 0 (ticket) + 2000 (credit)
    # minus the credit's 2000 clawback = 8700; F2's reversed-in-hold cash was never paid.
    assert k["reward_cost"] == {"amount_minor": 8700, "currency": "CNY"}
    assert k["cost_per_referred_customer"] == {"amount_minor": 2900, "currency": "CNY"}  # /3
    assert k["reward_cost_by_kind"] == {
        "cash": {"amount_minor": 6000, "currency": "CNY"},
        "coupon": {"amount_minor": 1200, "currency": "CNY"},
        "credit": {"amount_minor": 0, "currency": "CNY"},  # 2000 − 2000
        "points": {"amount_minor": 1500, "currency": "CNY"},
    }
    # 6 fulfilled in March / (6 + the one approved reward whose due date has passed).
    assert k["fulfilment_rate"] == Decimal("0.8571")
    assert k["fraud_rate"] == Decimal("0.3333")  # F4 rejected / F1, F3, F4 assessed
    # F7 and F8 are in review; F7's case opened 1 Apr 00:00 UTC is past the 48 h SLA.
    assert k["review_backlog"] == {"in_review": 2, "past_sla": 1, "sla_hours": 48}
    # On 5 April no March customer has reached day 60, let alone 365: not yet, not 0.
    assert k["not_yet"] == [
        "baseline_ltv_365d", "baseline_repurchase_60d", "baseline_retention_90d", "ltv_to_cac",
        "referred_ltv_365d", "referred_repurchase_60d", "referred_retention_90d",
    ]  # fmt: skip
    assert k["referred_retention_90d"] is None and k["referred_ltv_365d"] is None

    k = selectors.kpis_get(tenant=tenant, filters=Filters(*MARCH, program=data.prog), now=MATURE)
    assert k["not_yet"] == []
    # Referred sign-ups E1, E2, E3: E1 (10 May, day 69) and E3 (10 May, day 68) retained.
    assert k["referred_retention_90d"] == Decimal("0.6667")
    # Baseline B1, B2, B3: B1 (20 May, day 71).
    assert k["baseline_retention_90d"] == Decimal("0.3333")
    # Referred first purchases in March: E1, E2, E3, E6; only E3 bought again (31 days).
    assert k["referred_repurchase_60d"] == Decimal("0.2500")
    assert k["baseline_repurchase_60d"] == Decimal("0.5000")  # B1 of B1, B3
    # Referred: 10000 + 0 (E2 refunded) + 20000 × 12 (monthly → new ARR) + 5000 = 255000;
    # all: + B1 6000 + B3 (4000 − 1000) + E4 9900 (rejected referral, still a customer).
    assert k["referral_revenue_share"] == Decimal("0.9310")  # 255000 / 273900
    # (15000 + 0 + 40000) / 3 and (12000 + 0 + 3000) / 3.
    assert k["referred_ltv_365d"] == {"amount_minor": 18333, "currency": "CNY"}
    assert k["baseline_ltv_365d"] == {"amount_minor": 5000, "currency": "CNY"}
    assert k["ltv_to_cac"] == Decimal("6.32")  # 18333 / 2900


def test_cohorts_hold_only_each_groups_own_customers(data, tenant):
    referred, baseline = selectors.cohort_figures(
        tenant=tenant, filters=Filters(*MARCH, program=data.prog)
    )
    assert referred.signed_up == 3  # E1, E2, E3 — not E4, whose referral was rejected
    assert baseline.signed_up == 3  # B1, B2, B3 — E4 is in neither group
    assert referred.first_purchase_revenue_minor == 255000
    assert baseline.first_purchase_revenue_minor == 9000
    assert referred.ltv_365d_minor == 55000


def test_ltv_to_cac_uses_the_tenants_acquisition_cost_when_given(data, tenant):
    from analytics.models import ProgramTargets

    ProgramTargets.objects.for_tenant(tenant).create(
        tenant=tenant, program=data.prog, acquisition_cost_minor=5000
    )
    k = selectors.kpis_get(tenant=tenant, filters=Filters(*MARCH, program=data.prog), now=MATURE)
    assert k["ltv_to_cac"] == Decimal("3.67")  # 18333 / 5000


def test_referrer_counts_of_a_channel_use_only_that_channels_activity(data, tenant):
    k = selectors.kpis_get(
        tenant=tenant, filters=Filters(*MARCH, program=data.prog, channel="wechat"), now=NOW
    )
    assert k["referrals_per_referrer"] == Decimal("1.0000")  # F1 / R1
    # R1 shared and was clicked on WeChat; R2 only by email and link: 1 of 3 enrolled.
    assert k["participation_rate"] == Decimal("0.3333")
    assert k["conversion_rate"] == Decimal("0.5000")  # F1 / (c1, c2)
