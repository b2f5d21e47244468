"""The panels beside the KPIs: leaderboard, coverage trend, goals, pacing, holdouts,
advocates and the regional pilot, on the hand-built March and small additions to it."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import time_machine

from analytics import advocates, rollups, selectors, services
from analytics.models import Goal
from analytics.selectors import Filters
from programs.holdout import holdout_members

from . import factories as f

NOW = f.at("2026-04-05", 0)
MARCH = (date(2026, 3, 1), date(2026, 3, 31))


@pytest.fixture
def data(tenant):
    with time_machine.travel(NOW, tick=False):
        d = f.build(tenant)
        rollups.rollups_rebuild(tenant=tenant)
    return d


def test_leaderboard_ranks_by_successes_then_by_retained_value(data, tenant):
    board = selectors.leaderboard(tenant=tenant, filters=Filters(*MARCH, program=data.prog))
    # R2: F3 (7 Mar) and F6 (2 Mar) converted = 2; R1: F1 = 1 (F2 was reversed).
    assert [(r["participant"], r["successes"]) for r in board["by_successes"]] == [
        ("R2", 2),
        ("R1", 1),
    ]
    # Only F1 is retained: E1's first-year value 10000 + 5000.
    assert board["by_value"] == [
        {"participant": "R1", "name": "", "value_minor": 15000, "customers": 1}
    ]


def test_leaderboard_ties_go_to_whoever_got_there_first(tenant):
    prog = f.program(tenant)
    early, late = f.person(tenant, "early"), f.person(tenant, "late")
    for who, day in ((late, "2026-03-05"), (early, "2026-03-03")):
        ref = f.referral(prog, who, f.person(tenant), f.at(day))
        f.stage(ref, "paid", "converted", f.at(day))
    rollups.rollups_rebuild(tenant=tenant)
    board = selectors.leaderboard(tenant=tenant, filters=Filters(*MARCH, program=prog))
    assert [r["participant"] for r in board["by_successes"]] == ["early", "late"]


def test_coverage_trend_counts_conversions_by_evidence_per_week(data, tenant):
    trend = selectors.coverage_trend(tenant=tenant, filters=Filters(*MARCH, program=data.prog))
    # F6 (identity, 2 Mar = W10), F1 (click id, 6 Mar = W10), F3 (code, 7 Mar = W10).
    assert trend["weeks"] == ["2026-W10"]
    assert trend["methods"] == {"click_id": [1], "code": [1], "identity": [1]}
    assert trend["share"] == [0.6667]
    assert trend["alert"] is False


def test_goal_progress_compares_the_metric_over_its_window(data, tenant):
    goal = Goal.objects.for_tenant(tenant).create(
        tenant=tenant, program=data.prog, metric="cost_per_referred_customer",
        comparator="le", target=3500, starts_on=date(2026, 3, 1), ends_on=date(2026, 3, 31),
    )  # fmt: skip
    (row,) = selectors.goals_progress(tenant=tenant, program=data.prog, now=NOW)
    assert row["goal"] == goal
    assert (row["current"], row["met"], row["progress_percent"]) == (2900, True, 100)


def test_goal_status_in_basis_points_and_progress_towards_it():
    from decimal import Decimal

    assert selectors.goal_status("referral_share", "ge", 1800, Decimal("0.0900")) == {
        "current": 900, "met": False, "progress_percent": 50,
    }  # fmt: skip
    assert selectors.goal_status("cost_per_referred_customer", "le", 3500,
                                 {"amount_minor": 4200, "currency": "CNY"}) == {
        "current": 4200, "met": False, "progress_percent": 80,
    }  # fmt: skip
    assert selectors.goal_status("ltv_to_cac", "ge", 300, None)["current"] is None


def test_goal_create_refuses_a_window_that_ends_before_it_starts(data, tenant, marketer):
    from referral_platform.core.errors import ValidationFailed

    with pytest.raises(ValidationFailed) as err:
        services.goal_create(
            tenant=tenant, program=data.prog, metric="referral_share", comparator="ge",
            target=1800, starts_on=date(2026, 5, 1), ends_on=date(2026, 4, 1), actor=marketer,
        )  # fmt: skip
    assert list(err.value.fields) == ["ends_on"]
    assert Goal.objects.for_tenant(tenant).count() == 0


def test_pacing_projects_the_month_and_warns_before_the_target_breaks():
    out = selectors.pacing_compute(
        spent_minor=12000, converted=4, days_elapsed=10, days_total=30,
        budget_minor=30000, target_cpra_minor=3500, currency="CNY",
    )  # fmt: skip
    assert out["projected"]["amount_minor"] == 36000  # 12000 × 30 / 10
    assert out["cpra"]["amount_minor"] == 3000
    assert out["warnings"] == ["budget"]


def test_holdout_report_compares_treated_and_held_out_members(tenant):
    from .test_holdout_report import holdout_on

    with time_machine.travel(NOW, tick=False):
        d = f.build(tenant)
        rollups.rollups_rebuild(tenant=tenant)
    holdout_on(d.prog, 50)
    report = selectors.holdout_report(
        tenant=tenant, program=d.prog, filters=Filters(*MARCH, program=d.prog)
    )
    # The members are the program's enrolled participants: R1–R4.
    ids = [d.r1.pk, d.r2.pk, d.r3.pk, d.r4.pk]
    held = holdout_members(d.prog, ids)
    # In March R1 brought E1 and E2, R2 brought E3.
    brought = {d.r1.pk: 2, d.r2.pk: 1}
    treated_n, held_n = len(ids) - len(held), len(held)
    customers = report["customers_per_member"]
    assert (report["treated_members"], report["held_out_members"]) == (treated_n, held_n)
    assert (customers["treated_total"], customers["held_out_total"]) == (
        sum(c for pid, c in brought.items() if pid not in held),
        sum(c for pid, c in brought.items() if pid in held),
    )
    # Four members cannot tell anything: the report says so rather than claim a number.
    assert report["too_small"] is True
    assert customers["tell"] is False and report["revenue_per_member"]["tell"] is False


def test_mean_difference_gives_welchs_interval_and_refuses_small_samples():
    from analytics.experiments import mean_difference

    # 40 treated members, half brought one customer; 35 held out brought none.
    out = mean_difference([1] * 20 + [0] * 20, [0] * 35)
    assert out.difference == 0.5
    # se = sqrt(0.25641 / 40) = 0.080064; 0.5 ± 1.959964 × se.
    assert (round(out.ci_low, 4), round(out.ci_high, 4)) == (0.3431, 0.6569)
    assert out.significant and not out.too_small
    small = mean_difference([1] * 20 + [0] * 20, [0] * 29)
    assert small.too_small and not small.significant
    assert mean_difference([1, 0], []) is None


def test_pilot_regions_come_from_the_programs_region_boosts():
    spec = {"boosts": [{"key": "pilot", "when": {"field": "referrer.region", "op": "eq",
                                                  "value": "south-china"}}, {"key": "peak"}]}  # fmt: skip
    assert selectors.pilot_regions(spec) == ["south-china"]
    assert selectors.pilot_regions({}) == []


def test_advocates_rank_promoters_who_share_and_buy_first(tenant):
    quiet = f.person(tenant, "quiet")
    keen = f.person(tenant, "keen")
    keen.attributes = {"nps": 10}
    keen.save()
    for n in range(3):
        f.event(keen, "share", f.at(f"2026-03-1{n}"), properties={"channel": "wechat"})
        f.event(keen, "purchase", f.at(f"2026-03-1{n}"), amount=100, order_id=f"k{n}")
    f.event(quiet, "activity", f.at("2026-03-10"))
    ranking = advocates.advocates_rank(tenant=tenant, as_of=NOW)
    assert [r["participant"] for r in ranking] == ["keen", "quiet"]
    # keen: (3 shares × 4 + 3 purchases × 3) × 1.5 for NPS 10 = 31.5; quiet: 1 activity.
    assert [r["score"] for r in ranking] == [31.5, 1.0]


def test_advocate_backtest_measures_the_top_ranks_against_everyone(tenant):
    prog = f.program(tenant)
    people = [f.person(tenant, f"c{n}") for n in range(10)]
    cutoff = f.at("2026-03-01")
    for n, who in enumerate(people):
        f.event(who, "activity", cutoff - timedelta(days=5))
        if n == 0:  # the busiest customer…
            for k in range(5):
                f.event(who, "share", cutoff - timedelta(days=k + 1))
    # …is the one who then refers successfully.
    ref = f.referral(prog, people[0], f.person(tenant), cutoff + timedelta(days=3),
                     status="converted")  # fmt: skip
    del ref
    out = advocates.advocates_backtest(tenant=tenant, cutoff=cutoff, horizon_days=30)
    assert (out["scored"], out["top"], out["top_rate"], out["base_rate"]) == (10, 1, 1.0, 0.1)
    assert out["lift"] == 10.0


def test_breakdown_reports_the_regional_pilot_separately(data, tenant, marketer):
    from django.test import Client

    data.prog.current_version.spec = {**f.SPEC, "boosts": [
        {"key": "pilot", "when": {"field": "referrer.region", "op": "eq", "value": "south-china"}}]}  # fmt: skip
    data.prog.current_version.save()
    client = Client()
    client.force_login(marketer)
    res = client.get("/app/analytics/breakdowns/?program=prog&from=2026-03-01&to=2026-03-31")
    assert res.status_code == 200
    (pilot,) = res.context["pilots"]
    assert pilot["region"] == "south-china"
    assert pilot["funnel"]["signups"] == 2  # F1, F2 (R1 is the south-china referrer)
    assert b'data-testid="pilot-regions"' in res.content
