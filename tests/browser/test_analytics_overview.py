"""An analyst opens the program overview, changes the date range and the program and sees
the charts redraw with the new numbers, then exports the funnel as CSV and reads it back."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser


@pytest.fixture
def march(transactional_db, tenant):
    from analytics import rollups
    from analytics.tests import factories as f

    data = f.build(tenant)
    rollups.rollups_rebuild(tenant=tenant)
    return data


def _rendered(page, testid: str, expected: str) -> None:
    page.wait_for_selector(f"[data-testid={testid}][data-rendered-total='{expected}']")


def test_overview_redraws_on_new_filters_and_exports_a_csv_that_reads_back(
    live_server, page, analyst, march, shot, staff_login
):
    staff_login(page, live_server, "analyst@acme.test", "pw-analyst-12345")
    page.goto(live_server.url + "/app/analytics/?program=prog&from=2026-03-01&to=2026-03-31")
    # Funnel 3 + 4 + 3 + 2 + 3 + 1 + 3 = 19; series: clicks 4 + sign-ups 3 + converted 3
    # + rewarded 3 = 13 over 31 days.
    _rendered(page, "funnel-chart", "19")
    _rendered(page, "series-chart", "13")
    assert page.locator("[data-testid=series-chart]").get_attribute("data-rendered-points") == "31"
    assert page.locator("[data-testid=funnel-chart] canvas").count() == 1
    card = page.locator("[data-kpi=referral_share]")
    assert (
        card.get_attribute("title") == "Referred new customers ÷ all new customers of the tenant."
    )
    assert card.locator("[data-kpi-value]").inner_text() == "0.43 per new customer"
    shot(page, "analytics-overview")

    # From 6 March: only conversions of F1 and F3 (2), F1 retained (1), three rewarded.
    page.fill("#f-from", "2026-03-06")
    page.locator("#f-from").dispatch_event("change")
    page.wait_for_url(re.compile(r".*from=2026-03-06.*"))
    _rendered(page, "funnel-chart", "6")
    assert page.locator("[data-testid=series-chart]").get_attribute("data-rendered-points") == "26"

    # The other program: F9 signed up on 10 March and converted on 11 March, nothing else.
    page.select_option("#f-program", "other")
    page.wait_for_url(re.compile(r".*program=other.*"))
    _rendered(page, "funnel-chart", "2")
    assert "from=2026-03-06" in page.url  # the filters travel together in the URL
    shot(page, "analytics-overview-other")

    page.locator("[data-testid=analytics-exports] .dropdown-toggle").click()
    with page.expect_download() as download_info:
        page.locator("[data-export=funnel]").click()
    path = Path(download_info.value.path())
    rows = list(csv.DictReader(path.read_text().splitlines()))
    assert len(rows) == 26  # 6–31 March
    assert [r["day"] for r in rows if r["converted"] != "0"] == ["2026-03-11"]
    assert [r["day"] for r in rows if r["signups"] != "0"] == ["2026-03-10"]
    assert sum(int(r["clicks"]) for r in rows) == 0
    assert page.console_problems == []


def test_every_analytics_dashboard_draws_its_charts_without_script_errors(
    live_server, page, analyst, march, shot, staff_login
):
    staff_login(page, live_server, "analyst@acme.test", "pw-analyst-12345")
    query = "?program=prog&from=2026-03-01&to=2026-03-31"
    for name in ("breakdowns", "cohorts", "leaderboard", "fraud", "cost", "coverage",
                 "experiments", "advocates", "goals"):  # fmt: skip
        page.goto(f"{live_server.url}/app/analytics/{name}/{query}")
        charts = page.locator("[data-chart]")
        for i in range(charts.count()):
            charts.nth(i).wait_for(state="attached")
            page.wait_for_function(
                "el => el.hasAttribute('data-rendered-total')", arg=charts.nth(i).element_handle()
            )
        shot(page, f"analytics-{name}")
    # The cost page's pie shows ¥87 spread over the kinds (credit nets to zero).
    page.goto(f"{live_server.url}/app/analytics/cost/{query}")
    page.wait_for_selector("[data-chart=cost-pie][data-rendered-total='87']")
    assert page.console_problems == []


def test_an_export_above_the_threshold_shows_its_progress_and_downloads_every_row(
    live_server, page, analyst, march, shot, staff_login
):
    from analytics import exports
    from rewards.models import Reward

    ref = march.f1
    existing = Reward.objects.for_tenant(ref.program.tenant).filter(program=ref.program).count()
    Reward.unscoped.bulk_create(
        Reward(tenant_id=ref.tenant_id, program=ref.program,
               program_version=ref.program.current_version, participant=ref.referrer,
               referral=ref, side="referrer", scope=f"bulk:{i}", reason=f"stage:bulk{i}",
               kind="cash", amount_minor=1234, currency="CNY", status="pending")
        for i in range(exports.SYNC_LIMIT + 1 - existing)
    )  # fmt: skip
    staff_login(page, live_server, "analyst@acme.test", "pw-analyst-12345")
    page.goto(live_server.url + "/app/analytics/?program=prog&from=2026-01-01&to=2030-12-31")
    page.locator("[data-testid=analytics-exports] .dropdown-toggle").click()
    page.locator("[data-export=rewards]").click()
    page.wait_for_url(re.compile(r".*/app/analytics/exports/\d+/$"))
    page.wait_for_selector("[data-testid=export-job][data-status=done]")
    bar = page.locator("[data-testid=export-job] .progress-bar")
    assert bar.get_attribute("aria-valuenow") == "100"
    count = page.locator("[data-export-count]").inner_text()
    assert count == f"{exports.SYNC_LIMIT + 1:,} / {exports.SYNC_LIMIT + 1:,}"
    page.wait_for_timeout(800)  # the bar's width transition
    shot(page, "analytics-export-job")
    with page.expect_download() as download_info:
        page.locator("[data-export-download]").click()
    rows = list(csv.DictReader(Path(download_info.value.path()).read_text().splitlines()))
    assert len(rows) == exports.SYNC_LIMIT + 1
    assert rows[-1]["amount"] == "12.34" and rows[-1]["currency"] == "CNY"
    assert page.console_problems == []


def test_the_cohorts_page_reads_referrer_measures_and_not_yet_for_young_months(
    live_server, page, analyst, march, shot, staff_login
):
    staff_login(page, live_server, "analyst@acme.test", "pw-analyst-12345")
    # March 2026 is over a year before this test's real clock; this month is not.
    page.goto(
        live_server.url + "/app/analytics/cohorts/?program=prog&from=2026-03-01&to=2026-03-31"
    )
    table = page.locator("[data-testid=referrer-measures]")
    assert table.locator("[data-measure=customers] td").nth(3).inner_text() == "3"  # E1–E3
    assert table.locator("[data-measure=retention_90d] td").nth(3).inner_text() == "66.7%"
    page.locator("[data-testid=satisfaction]").wait_for()
    shot(page, "analytics-cohorts-referrers")
    assert page.console_problems == []


def test_the_overview_says_when_the_holdout_is_too_small_to_tell(
    live_server, page, analyst, march, shot, staff_login
):
    from analytics import selectors
    from analytics.selectors import Filters
    from analytics.tests.test_holdout_report import MARCH, holdout_on

    holdout_on(march.prog, 50)
    report = selectors.holdout_report(
        tenant=march.prog.tenant, program=march.prog, filters=Filters(*MARCH, march.prog)
    )
    staff_login(page, live_server, "analyst@acme.test", "pw-analyst-12345")
    page.goto(live_server.url + "/app/analytics/?program=prog&from=2026-03-01&to=2026-03-31")
    card = page.locator("[data-testid=holdout]")
    assert (
        "Too few members to tell yet"
        in card.locator("[data-testid=holdout-too-small]").inner_text()
    )
    verdicts = card.locator("[data-testid=holdout-verdict]")
    assert verdicts.all_inner_texts() == ["sample too small to tell"] * 2
    # The referred customers each group brought per member, as the selector computes them.
    customers = report["customers_per_member"]
    row = card.locator("[data-testid=holdout-customers]")
    for testid, value in (
        ("treated", customers["treated_mean"]),
        ("held-out", customers["held_out_mean"]),
    ):
        shown = row.locator(f"[data-testid={testid}]").inner_text()
        assert shown == ("—" if value is None else f"{value:.2f}")
    revenue = report["revenue_per_member"]["treated_mean"]
    shown = card.locator("[data-testid=holdout-revenue] [data-testid=treated]").inner_text()
    assert shown == ("—" if revenue is None else f"¥{revenue['amount_minor'] / 100:,.2f}")
    card.scroll_into_view_if_needed()
    shot(page, "analytics-overview-holdout")
    assert page.console_problems == []


def test_on_a_phone_the_breakdown_bars_label_every_channel(
    live_server, page, analyst, march, staff_login
):
    # echarts drops labels that would overlap: at 360 px two of five channels went unnamed.
    page.set_viewport_size({"width": 360, "height": 800})
    staff_login(page, live_server, "analyst@acme.test", "pw-analyst-12345")
    page.goto(
        f"{live_server.url}/app/analytics/breakdowns/?program=prog&from=2026-03-01&to=2026-03-31"
    )
    chart = page.locator("[data-chart]").first
    page.wait_for_function(
        "el => el.hasAttribute('data-rendered-total')", arg=chart.element_handle()
    )
    axis = chart.evaluate(
        "el => { const x = echarts.getInstanceByDom(el).getOption().xAxis[0];"
        " return {names: x.data, interval: x.axisLabel.interval, rotate: x.axisLabel.rotate}; }"
    )
    assert len(axis["names"]) > 3
    assert (axis["interval"], axis["rotate"]) == (0, 35)
    assert page.console_problems == []
