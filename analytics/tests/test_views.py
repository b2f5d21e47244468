"""The dashboards: analysts read every page and export; nobody sees another tenant's
numbers; editing goals and promoting winners needs a program editor."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
import time_machine
from django.test import Client
from django.utils import translation

from analytics import rollups
from analytics.models import ExportJob, Goal, ProgramTargets

from . import factories as f

NOW = f.at("2026-04-05", 0)
MARCH = "program=prog&from=2026-03-01&to=2026-03-31"
PAGES = ["", "breakdowns/", "cohorts/", "leaderboard/", "fraud/", "cost/", "coverage/",
         "experiments/", "advocates/", "goals/"]  # fmt: skip


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def data(tenant):
    with time_machine.travel(NOW, tick=False):
        d = f.build(tenant)
        rollups.rollups_rebuild(tenant=tenant)
    return d


@pytest.fixture(autouse=True)
def _now():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.mark.parametrize("page", PAGES)
def test_an_analyst_reads_every_dashboard(analyst, data, page):
    res = login(analyst).get(f"/app/analytics/{page}?{MARCH}")
    assert res.status_code == 200
    assert b'data-testid="analytics-filters"' in res.content


@pytest.mark.parametrize("page", PAGES)
def test_another_tenants_program_on_any_dashboard_is_a_404(outsider, data, page):
    assert login(outsider).get(f"/app/analytics/{page}?{MARCH}").status_code == 404


def test_another_tenant_sees_none_of_these_numbers_on_its_own_overview(outsider, data):
    res = login(outsider).get("/app/analytics/?program=&from=2026-03-01&to=2026-03-31")
    assert res.status_code == 200
    assert res.context["steps"][1]["count"] == 0  # no clicks
    assert 'value="prog"' not in res.content.decode()  # not even in the program filter


def test_overview_shows_each_kpi_with_its_definition_on_hover(marketer, data):
    res = login(marketer).get(f"/app/analytics/?{MARCH}")
    html = res.content.decode()
    cards = {c["name"]: c for c in res.context["cards"]}
    # 3 referrals of 7 sign-ups; a referral needs no sign-up event, so not a percentage.
    assert cards["referral_share"]["display"] == "0.43 per new customer"
    assert cards["cost_per_referred_customer"]["display"] == "¥29"  # 8700 / 3 = 2900 fen
    # On 5 April March's customers are too young for LTV or retention: not yet, not 0.
    assert cards["ltv_to_cac"]["display"] == "not yet"
    assert cards["referred_retention_90d"]["display"] == "not yet"
    assert cards["conversion_rate"]["display"] == "0.75 per click"  # 3 converted / 4 clicks
    assert 'title="Referred new customers ÷ all new customers of the tenant."' in html
    assert [s["count"] for s in res.context["steps"]] == [3, 4, 3, 2, 3, 1, 3]
    # Each step against the one before; where the count is larger, a count per unit.
    assert [s["from_base"] for s in res.context["steps"]] == [
        "", "1.33 per share", "75.0% of clicks", "66.7% of sign-ups", "1.50 per qualified referral",
        "33.3% of converted", "3.00 per retained referral",
    ]  # fmt: skip
    assert 'data-chart="funnel-chart"' in html and 'id="funnel-chart"' in html
    assert "vendor/echarts/echarts.min.js" in html


def test_overview_shows_progress_against_a_goal(marketer, data):
    Goal.objects.for_tenant(data.prog.tenant).create(
        tenant=data.prog.tenant, program=data.prog, metric="referral_share", comparator="ge",
        target=1800, starts_on=date(2026, 3, 1), ends_on=date(2026, 5, 31),
    )  # fmt: skip
    res = login(marketer).get(f"/app/analytics/?{MARCH}")
    card = next(c for c in res.context["cards"] if c["name"] == "referral_share")
    # Referral share since 1 March (to "today", 5 April): E1, E2, E3, F5's E5 on 1 April…
    assert card["goal"]["met"] is True
    assert 'data-goal="referral_share">Target ≥ 18%' in res.content.decode()


def test_budget_pacing_warns_when_the_month_will_overrun(marketer, data, tenant):
    ProgramTargets.objects.for_tenant(tenant).create(
        tenant=tenant, program=data.prog, monthly_budget_minor=10000, target_cpra_minor=3000
    )
    # April so far (1–5 April): F5's 5000 cash fulfilled on 2 April, one conversion (F5).
    # 5000 over 5 of 30 days projects 30000 > 10000; CPRA 5000 > 3000.
    res = login(marketer).get(f"/app/analytics/?{MARCH}")
    pacing = res.context["pacing"]
    assert pacing["projected"] == {"amount_minor": 30000, "currency": "CNY"}
    assert pacing["warnings"] == ["budget", "cpra"]


def test_an_analyst_exports_the_funnel_and_reads_it_back(analyst, data):
    res = login(analyst).get(f"/app/analytics/export/funnel.csv?{MARCH}")
    assert res.status_code == 200
    rows = list(csv.DictReader(io.StringIO(b"".join(res.streaming_content).decode())))
    assert len(rows) == 31
    assert sum(int(r["clicks"]) for r in rows) == 4
    assert sum(int(r["converted"]) for r in rows) == 3
    assert next(r for r in rows if r["day"] == "2026-03-01")["shares"] == "1"


def test_the_kpi_and_referral_exports_carry_the_same_numbers(analyst, data):
    res = login(analyst).get(f"/app/analytics/export/kpis.csv?{MARCH}")
    kpis = {
        r["kpi"]: r for r in csv.DictReader(io.StringIO(b"".join(res.streaming_content).decode()))
    }
    assert kpis["reward_cost"]["value"] == "87.00"  # yuan, not fen
    assert kpis["referral_share"]["value"] == "0.4286"
    res = login(analyst).get(f"/app/analytics/export/referrals.csv?{MARCH}")
    referrals = list(csv.DictReader(io.StringIO(b"".join(res.streaming_content).decode())))
    # Created in March locally: F1, F3, F4, F2 (F5 is 1 April, F9 another program).
    assert [r["referee"] for r in referrals] == ["E1", "E3", "E4", "E2"]


def test_a_large_export_runs_as_a_job_with_progress_and_a_download(
    analyst, data, monkeypatch, django_capture_on_commit_callbacks
):
    from analytics import exports

    monkeypatch.setattr(exports, "SYNC_LIMIT", 2)
    client = login(analyst)
    # The rows were written on 5 April (rewards export by creation time).
    with django_capture_on_commit_callbacks(execute=True):
        res = client.get(
            "/app/analytics/export/rewards.csv?program=prog&from=2026-04-01&to=2026-04-30"
        )
    job = ExportJob.objects.for_tenant(data.prog.tenant).get()
    assert res.status_code == 302 and res.url == f"/app/analytics/exports/{job.pk}/"
    status = client.get(f"/app/analytics/exports/{job.pk}/status").json()
    # Celery runs eagerly in tests: the job ran when the request committed.
    assert status["status"] == "done" and status["percent"] == 100
    # The page of a job already done shows it done before any poll: full bar, count, link.
    page = client.get(res.url).content.decode()
    assert 'style="width: 100%"' in page and 'aria-valuenow="100"' in page
    assert "10 / 10" in page
    assert f'class="btn btn-primary" data-export-download href="{status["download"]}"' in page
    content = client.get(status["download"]).content.decode()
    # Every reward of `prog` (the data set's ten).
    assert len(list(csv.DictReader(io.StringIO(content)))) == status["total"] == 10


def test_another_tenants_export_job_is_a_404(outsider, analyst, data, monkeypatch):
    job = ExportJob.objects.for_tenant(data.prog.tenant).create(
        tenant=data.prog.tenant, kind="funnel", status="done", content="x"
    )
    assert login(outsider).get(f"/app/analytics/exports/{job.pk}/download").status_code == 404
    assert login(analyst).get(f"/app/analytics/exports/{job.pk}/download").status_code == 200


def test_an_analyst_cannot_set_goals_but_a_marketer_can(analyst, marketer, data):
    body = {"form": "goal", "metric": "cost_per_referred_customer", "comparator": "le",
            "target": "35", "starts_on": "2026-03-01", "ends_on": "2026-05-31"}  # fmt: skip
    assert login(analyst).post(f"/app/analytics/goals/?{MARCH}", body).status_code == 403
    assert not Goal.objects.for_tenant(data.prog.tenant).exists()
    res = login(marketer).post(f"/app/analytics/goals/?{MARCH}", body)
    assert res.status_code == 302
    goal = Goal.objects.for_tenant(data.prog.tenant).get()
    assert (goal.metric, goal.comparator, goal.target) == ("cost_per_referred_customer", "le", 3500)


@pytest.mark.parametrize(
    ("metric", "typed", "stored", "shown"),
    [
        ("referral_share", "18", 1800, "≥ 18%"),
        ("referral_share", "12.5", 1250, "≥ 12.5%"),
        ("fraud_rate", "0.25", 25, "≥ 0.25%"),
        ("cost_per_referred_customer", "35", 3500, "≥ ¥35"),
        ("cost_per_referred_customer", "35.50", 3550, "≥ ¥35.50"),
        ("ltv_to_cac", "3.2", 320, "≥ 3.20"),
    ],
)
def test_a_goal_target_is_typed_in_the_metrics_unit_and_shown_back_in_it(
    marketer, data, metric, typed, stored, shown
):
    client = login(marketer)
    res = client.post(f"/app/analytics/goals/?{MARCH}", {
        "form": "goal", "metric": metric, "comparator": "ge", "target": typed,
        "starts_on": "2026-03-01", "ends_on": "2026-05-31",
    })  # fmt: skip
    assert res.status_code == 302
    assert Goal.objects.for_tenant(data.prog.tenant).get().target == stored
    page = client.get(f"/app/analytics/goals/?{MARCH}")
    (row,) = page.context["progress"]
    assert f"<td>{shown}</td>" in page.content.decode()
    assert row["target_text"] == shown.removeprefix("≥ ")


def test_the_goals_list_shows_the_metrics_value_now_in_its_unit(marketer, data, tenant):
    for metric, target in (("referral_share", 1800), ("cost_per_referred_customer", 3500),
                           ("ltv_to_cac", 300)):  # fmt: skip
        Goal.objects.for_tenant(tenant).create(
            tenant=tenant, program=data.prog, metric=metric, comparator="ge", target=target,
            starts_on=date(2026, 3, 1), ends_on=date(2026, 3, 31),
        )  # fmt: skip
    res = login(marketer).get(f"/app/analytics/goals/?{MARCH}")
    shown = {
        r["goal"].metric: (r["target_text"], r["current_text"]) for r in res.context["progress"]
    }
    # March: 3 referred of 7 new customers; ¥87 of rewards over 3 conversions; LTV/CAC not
    # known before March's customers are a year old.
    assert shown == {
        "referral_share": ("18%", "42.86%"),
        "cost_per_referred_customer": ("¥35", "¥29"),
        "ltv_to_cac": ("3.00", "—"),
    }
    assert '<td class="text-end">42.86%</td>' in res.content.decode()


@pytest.mark.parametrize(
    ("metric", "typed", "error"),
    [
        ("referral_share", "-1", "Ensure this value is greater than or equal to 0."),
        ("referral_share", "101", "Enter a percent of at most 100."),
        ("referral_share", "18.125", "Enter at most 2 decimal places."),
        ("cost_per_referred_customer", "35.005", "Enter at most 2 decimal places."),
        ("cost_per_referred_customer", "-35", "Ensure this value is greater than or equal to 0."),
        ("ltv_to_cac", "3.255", "Enter at most 2 decimal places."),
    ],
)
def test_a_goal_target_out_of_its_units_range_is_refused_with_a_field_error(
    marketer, data, metric, typed, error
):
    res = login(marketer).post(f"/app/analytics/goals/?{MARCH}", {
        "form": "goal", "metric": metric, "comparator": "ge", "target": typed,
        "starts_on": "2026-03-01", "ends_on": "2026-05-31",
    })  # fmt: skip
    assert res.status_code == 422
    assert res.context["goal_form"].errors == {"target": [error]}
    assert error in res.content.decode()
    assert not Goal.objects.for_tenant(data.prog.tenant).exists()


def test_the_goal_and_target_forms_are_labelled_in_the_readers_language(marketer, data):
    client = login(marketer)
    english = client.get(f"/app/analytics/goals/?{MARCH}").content.decode()
    assert ">Direction:</label>" in english and ">Holdout share (%):</label>" not in english
    # The holdout is the program's: the page sends the reader to the builder's section.
    assert f'href="/app/programs/{data.prog.slug}/edit/holdout/"' in english
    assert ">Monthly budget (CNY):</label>" in english
    assert '<option value="cost_per_referred_customer">Cost per referred customer (CNY)' in english
    assert '<option value="referral_share">Referral share of new customers (%)' in english
    assert "basis points" not in english and "minor units" not in english
    # The override puts the thread's language back afterwards; the header picks the page's.
    with translation.override("zh-hans"):
        chinese = client.get(
            f"/app/analytics/goals/?{MARCH}", HTTP_ACCEPT_LANGUAGE="zh-hans"
        ).content.decode()
    assert ">方向:</label>" in chinese and "在计划编辑器中设置" in chinese
    assert ">月度预算（CNY）:</label>" in chinese
    assert "monthly_budget:" not in chinese and "Starts on" not in chinese


def test_an_analyst_cannot_promote_an_experiment_winner(analyst, data):
    res = login(analyst).post(
        f"/app/analytics/experiments/promote/?{MARCH}", {"experiment": "x", "variant": "a"}
    )
    assert res.status_code == 403


def test_the_overview_reads_rollups_in_a_fixed_number_of_queries(
    marketer, data, django_assert_num_queries
):
    client = login(marketer)
    client.get(f"/app/analytics/?{MARCH}")  # warm the session and the membership lookups
    # Session, user and membership (3); the program (1); this and the previous period's
    # KPIs, 15 each; goals (1); pacing and holdout targets (2); filter choices (3); the time
    # series (1); the program list (1). Independent of the size of the data.
    with django_assert_num_queries(42):
        assert client.get(f"/app/analytics/?{MARCH}").status_code == 200


def test_leaderboard_shows_the_prize_standings_rewards_persisted(analyst, data, tenant):
    from rewards.models import PeriodClose

    PeriodClose.unscoped.create(
        tenant=tenant, program=data.prog, kind="season", period_key="2026-Q1", closed_at=NOW,
        result=[{"participant": data.r2.pk, "reason": "season:1"},
                {"participant": data.r1.pk, "reason": "season:2"}],
    )  # fmt: skip
    res = login(analyst).get(f"/app/analytics/leaderboard/?{MARCH}")
    assert res.context["prize_boards"] == [
        {"period": "2026-Q1", "rows": [{"participant": "R2", "reason": "season:1"},
                                       {"participant": "R1", "reason": "season:2"}]}
    ]  # fmt: skip
    assert res.content.decode().count('data-testid="prize-board"') == 1


def test_another_tenants_program_in_an_export_is_a_404(outsider, data):
    for kind in ("funnel", "kpis", "referrals", "rewards", "payouts"):
        assert login(outsider).get(f"/app/analytics/export/{kind}.csv?{MARCH}").status_code == 404


def test_an_unknown_export_is_a_404(analyst, data):
    assert login(analyst).get(f"/app/analytics/export/secrets.csv?{MARCH}").status_code == 404


def test_experiment_results_show_the_comparison_and_a_marketer_promotes_the_winner(
    marketer, tenant
):
    from analytics.experiments import two_proportion_z_test
    from programs.services import demo_programs_seed

    program = demo_programs_seed(tenant=tenant, slug="saas-b2b")
    referrer = f.person(tenant, "ref")
    # Referee-side A/B: 4 of 10 converted on the first variant, 8 of 10 on the second.
    for variant, converted in (("ten_percent_off", 4), ("one_month_free", 8)):
        for n in range(10):
            ref = f.referral(program, referrer, f.person(tenant), f.at("2026-03-02"))
            ref.variant = f"referee_offer_ab:{variant}"
            ref.save()
            if n < converted:
                f.stage(ref, "paid", "converted", f.at("2026-03-04"))
    client = login(marketer)
    res = client.get(
        f"/app/analytics/experiments/?program={program.slug}&from=2026-03-01&to=2026-03-31"
    )
    (result,) = res.context["results"]
    assert [(v["variant"], v["exposed"], v["converted"]) for v in result["variants"]] == [
        ("ten_percent_off", 10, 4),
        ("one_month_free", 10, 8),
    ]
    test = result["comparisons"][0]["test"]
    assert test == two_proportion_z_test(4, 10, 8, 10)
    # 0.4 vs 0.8: pooled p = 0.6, SE = √(0.6 × 0.4 × 0.2) = 0.2191, z = 1.826, p = 0.0679.
    assert round(test.z, 3) == 1.826 and round(test.p_value, 4) == 0.0679
    assert "not significant yet" in res.content.decode()

    res = client.post(
        f"/app/analytics/experiments/promote/?program={program.slug}&from=2026-03-01&to=2026-03-31",
        {"experiment": "referee_offer_ab", "variant": "one_month_free"},
    )
    assert res.status_code == 302
    program.refresh_from_db()
    assert program.current_version.number == 2
    assert "experiments" not in program.spec


def test_a_marketer_sets_targets_and_deletes_a_goal(marketer, data, tenant):
    client = login(marketer)
    res = client.post(f"/app/analytics/goals/?{MARCH}", {
        "form": "targets", "monthly_budget": "5000", "target_cpra": "35.5",
        "acquisition_cost": "", "coverage_alert_percent": "80",
    })  # fmt: skip
    assert res.status_code == 302
    targets = ProgramTargets.objects.for_tenant(tenant).get(program=data.prog)
    assert (targets.monthly_budget_minor, targets.target_cpra_minor) == (500000, 3550)
    assert targets.acquisition_cost_minor is None
    assert targets.coverage_alert_basis_points == 8000
    html = client.get(f"/app/analytics/goals/?{MARCH}").content.decode()
    assert 'name="monthly_budget" value="5000.00"' in html
    assert 'name="target_cpra" value="35.50"' in html
    assert 'name="coverage_alert_percent" value="80"' in html
    goal = Goal.objects.for_tenant(tenant).create(
        tenant=tenant, program=data.prog, metric="fraud_rate", comparator="le", target=500,
        starts_on=date(2026, 3, 1), ends_on=date(2026, 3, 31),
    )  # fmt: skip
    assert client.post(f"/app/analytics/goals/{goal.pk}/delete/?{MARCH}").status_code == 302
    assert not Goal.objects.for_tenant(tenant).exists()


def test_the_targets_form_shows_stored_values_in_human_units(marketer, data, tenant):
    ProgramTargets.objects.for_tenant(tenant).create(
        tenant=tenant, program=data.prog, monthly_budget_minor=1234567, target_cpra_minor=3500,
        coverage_alert_basis_points=7550,
    )  # fmt: skip
    html = login(marketer).get(f"/app/analytics/goals/?{MARCH}").content.decode()
    assert 'name="monthly_budget" value="12345.67"' in html
    assert 'name="target_cpra" value="35.00"' in html
    assert 'name="coverage_alert_percent" value="75.5"' in html


@pytest.mark.parametrize(
    ("field", "typed", "error"),
    [
        ("monthly_budget", "-1", "Ensure this value is greater than or equal to 0."),
        ("target_cpra", "35.001", "Enter at most 2 decimal places."),
        ("coverage_alert_percent", "101", "Ensure this value is less than or equal to 100."),
    ],
)
def test_targets_out_of_range_are_refused_with_a_field_error_and_nothing_changes(
    marketer, data, tenant, field, typed, error
):
    res = login(marketer).post(f"/app/analytics/goals/?{MARCH}", {"form": "targets", field: typed})
    assert res.status_code == 422
    assert res.context["targets_form"].errors == {field: [error]}
    assert error in res.content.decode()
    assert not ProgramTargets.objects.for_tenant(tenant).exists()


@pytest.mark.parametrize("page", PAGES)
def test_a_new_tenant_without_programs_or_data_gets_empty_dashboards(owner, page):
    res = login(owner).get(f"/app/analytics/{page}")
    assert res.status_code == 200
    assert res.context["filters"].program is None


def test_an_export_whose_task_was_lost_runs_at_a_later_tick(
    analyst, data, monkeypatch, django_capture_on_commit_callbacks
):
    from datetime import timedelta

    import time_machine
    from kombu.exceptions import OperationalError

    from analytics import exports
    from analytics.periodic import exports_job
    from analytics.tasks import export_run_task
    from referral_platform.core import clock

    monkeypatch.setattr(exports, "SYNC_LIMIT", 2)

    def broker_down(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(export_run_task, "delay", broker_down)
    client = login(analyst)
    with django_capture_on_commit_callbacks(execute=True):
        res = client.get(
            "/app/analytics/export/rewards.csv?program=prog&from=2026-04-01&to=2026-04-30"
        )
    job = ExportJob.objects.for_tenant(data.prog.tenant).get()
    assert res.status_code == 302 and job.status == "queued"
    monkeypatch.undo()
    assert exports_job() == 0  # too fresh: its task may still be on its way
    with (
        time_machine.travel(clock.now() + timedelta(minutes=3)),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert exports_job() == 1
    job.refresh_from_db()
    assert (job.status, job.total) == ("done", 10)


def test_channels_are_named_in_the_readers_language_and_filtered_by_code(analyst, data):
    client = login(analyst)
    page = client.get(f"/app/analytics/breakdowns/?{MARCH}", HTTP_ACCEPT_LANGUAGE="zh-hans")
    html = page.content.decode()
    table = html.split('data-testid="breakdown-channel"')[1].split("</table>")[0]
    assert "<tr><td>推荐码</td>" in table and "<tr><td>code</td>" not in table
    assert '<option value="code">推荐码</option>' in html
    chosen = client.get(f"/app/analytics/breakdowns/?{MARCH}&channel=code").content.decode()
    assert '<option value="code" selected>Code</option>' in chosen
