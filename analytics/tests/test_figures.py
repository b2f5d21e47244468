"""What the dashboards draw equals its definition: funnel conversions never above 100 %,
participation inside its denominator, percent coupons at their redeemed or expected value,
and cohorts that are too young shown as "not yet"."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
import time_machine
from django.test import Client

from analytics import rollups, selectors
from analytics.kpis import EXPECTED, REDEEMED, FunnelCounts, funnel_steps, reward_valuation
from analytics.selectors import Filters

from . import factories as f

NOW = f.at("2026-04-05", 0)
MARCH = (date(2026, 3, 1), date(2026, 3, 31))
PERCENT = {"percent_off": 10, "max_amount": 50000}


def test_a_step_larger_than_its_base_reads_per_unit_and_a_missing_stage_is_skipped():
    steps = funnel_steps(
        FunnelCounts(shares=2, clicks=8, signups=9, qualified=0, converted=5, retained=0)
    )
    by = {s["step"]: s for s in steps}
    assert by["clicks"]["per_base"] == Decimal("4.00") and by["clicks"]["conversion"] is None
    # Codes need no click, so sign-ups may outnumber clicks: 9 per 8 (1.125, half-even),
    # never 112.5 %.
    assert by["signups"]["per_base"] == Decimal("1.12") and by["signups"]["conversion"] is None
    # No qualifying stage (0): conversions are compared with sign-ups, not with 0.
    assert by["converted"]["base"] == "signups"
    assert by["converted"]["conversion"] == Decimal("0.5556")
    assert by["qualified"]["conversion"] == Decimal("0") and by["retained"]["base"] == "converted"
    assert all(s["conversion"] is None or s["conversion"] <= 1 for s in steps)
    # The API's plain ratio to the step just before stays as it was.
    assert by["converted"]["rate_from_previous"] is None  # 5 / 0


def test_a_percent_coupon_is_valued_at_its_order_else_its_expected_value():
    def value(**kw):
        return reward_valuation(
            kind="coupon", amount_minor=None, points=None, point_value=None, **kw
        )

    # 10 % of a ¥1,680 order is ¥168, under the ¥500 cap.
    assert value(details=PERCENT, redeemed_order_minor=168000) == (16800, REDEEMED)
    assert value(details=PERCENT, redeemed_order_minor=900000) == (50000, REDEEMED)  # capped
    assert value(details=PERCENT, expected_minor=14000) == (14000, EXPECTED)
    assert value(details=PERCENT) == (50000, EXPECTED)  # no estimate: at most its cap
    assert value(details={**PERCENT, "computed_amount": 1200}) == (1200, REDEEMED)


@pytest.fixture
def coupons(tenant):
    """Two referee offers of 10 % off (cap ¥500, spec estimate ¥140) fulfilled 10 March:
    E1 bought ¥1,680 on 9 March after signing up; E2 has not bought yet."""
    spec = {
        "stages": [{"key": "paid", "rewards": [
            {"key": "offer", "side": "referee", "kind": "coupon", "estimated_value": 14000,
             **PERCENT},
        ]}],
    }  # fmt: skip
    prog = f.program(tenant, "prog", spec=spec)
    r1 = f.person(tenant, "R1")
    f.enroll(prog, r1, when=f.at("2026-02-01"))
    e1, e2 = f.person(tenant, "E1"), f.person(tenant, "E2")
    out = {}
    for who in (e1, e2):
        ref = f.referral(prog, r1, who, f.at("2026-03-08"), status="converted")
        out[who.external_id] = f.reward(
            ref, kind="coupon", side="referee", fulfilled_at=f.at("2026-03-10"),
            details=dict(PERCENT), reason="stage:offer",
        )  # fmt: skip
    f.event(e1, "signup", f.at("2026-03-08"))
    f.event(e1, "purchase", f.at("2026-03-09"), amount=168000, order_id="o1")
    f.event(e2, "signup", f.at("2026-03-08"))
    out.update(prog=prog, e2=e2)
    return out


def test_reward_cost_takes_a_used_coupon_at_its_order_and_an_unused_one_at_its_estimate(
    tenant, coupons
):
    rollups.rollups_rebuild(tenant=tenant)
    k = selectors.kpis_get(tenant=tenant, filters=Filters(*MARCH, program=coupons["prog"]), now=NOW)
    assert k["reward_cost"] == {"amount_minor": 16800 + 14000, "currency": "CNY"}
    assert k["coupon_cost_basis"] == {
        "redeemed": {"count": 1, "value": {"amount_minor": 16800, "currency": "CNY"}},
        "expected": {"count": 1, "value": {"amount_minor": 14000, "currency": "CNY"}},
    }

    # E2 uses hers on 20 March: the periodic update revalues the 10 March cost.
    with time_machine.travel(f.at("2026-03-20"), tick=False):
        f.event(coupons["e2"], "purchase", f.at("2026-03-20"), amount=30000, order_id="o2")
        rollups.rollups_update(tenant=tenant)
    k = selectors.kpis_get(tenant=tenant, filters=Filters(*MARCH, program=coupons["prog"]), now=NOW)
    assert k["reward_cost"] == {"amount_minor": 16800 + 3000, "currency": "CNY"}
    assert k["coupon_cost_basis"]["redeemed"]["count"] == 2


def test_the_cost_page_says_how_coupons_were_valued_and_what_cash_is_committed(
    tenant, coupons, owner
):
    ref = coupons["E1"].referral
    f.reward(ref, kind="cash", amount_minor=15000, status="approved", due_at=f.at("2026-04-20"))
    rollups.rollups_rebuild(tenant=tenant)
    client = Client()
    client.force_login(owner)
    with time_machine.travel(NOW, tick=False):
        html = client.get("/app/analytics/cost/?program=prog&from=2026-03-01&to=2026-03-31")
    text = html.content.decode()
    assert "1 percent coupon at the value it took off an order (¥168);" in text
    assert "1 not used yet, at its expected value from the program (¥140)." in text
    assert "Approved cash not yet fulfilled (committed, counted once fulfilled)" in text
    assert "<strong>¥150</strong>" in text
    chart = html.context["cost_chart"]["series"][0]["data"]
    assert chart[9] == 308.0  # 10 March: ¥168 + ¥140, in yuan


def test_participation_counts_only_active_referrers_with_an_eligible_enrolment(tenant):
    prog = f.program(tenant, "prog")
    member, outsider = f.person(tenant, "R1"), f.person(tenant, "R2")
    en = f.enroll(prog, member, when=f.at("2026-02-01"))
    late = f.enroll(prog, outsider, when=f.at("2026-02-01"), eligible=False)
    f.click(prog, en, f.at("2026-03-02"))
    f.click(prog, late, f.at("2026-03-03"))
    rollups.rollups_rebuild(tenant=tenant)
    k = selectors.kpis_get(tenant=tenant, filters=Filters(*MARCH, program=prog), now=NOW)
    # R2 was clicked but is not eligible: 1 of 1, not 2 of 1.
    assert k["participation_rate"] == Decimal("1.0000")


def test_cohort_months_too_young_read_not_yet_and_old_ones_their_figure(tenant, owner):
    f.build(tenant)
    rollups.rollups_rebuild(tenant=tenant)
    client = Client()
    client.force_login(owner)
    url = "/app/analytics/cohorts/?program=prog&from=2026-03-01&to=2026-03-31"
    with time_machine.travel(NOW, tick=False):
        young = client.get(url)
    with time_machine.travel(f.at("2026-07-01"), tick=False):  # 31 March + 92 days
        old = client.get(url)
    assert young.context["chart"]["series"][0]["data"] == [None]
    assert 'data-retained="referred"><span class="text-secondary">not yet' in (
        young.content.decode()
    )
    assert old.context["chart"]["series"][0]["data"] == [0.6667]  # E1, E3 of E1–E3
    assert old.context["rows"][0]["referred"].retained_90d == 2
    assert 'data-retained="referred">2</td>' in old.content.decode()


def test_the_fraud_rate_counts_only_rejections_among_assessed_referrals(tenant, data_march):
    # F4 (assessed) is rejected; F2 is rejected by hand without an assessment.
    from tracking.models import Referral

    Referral.unscoped.filter(pk=data_march.f2.pk).update(status="rejected")
    rollups.rollups_rebuild(tenant=tenant)
    k = selectors.kpis_get(tenant=tenant, filters=Filters(*MARCH, program=data_march.prog), now=NOW)
    assert k["fraud_rate"] == Decimal("0.3333")  # F4 of F1, F3, F4 — not 2 of 3


@pytest.fixture
def data_march(tenant):
    return f.build(tenant)
