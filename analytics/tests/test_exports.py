"""Exports in people's units: money in the currency's major unit beside its currency, and
no cell a spreadsheet would run as a formula. A large export runs as a job that reports
its progress as it goes."""

from __future__ import annotations

import csv
import io

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from analytics import exports, rollups
from analytics.models import ExportJob
from referral_platform.core.spreadsheet import safe_cell
from rewards.models import Reward

from . import factories as f

NOW = f.at("2026-04-05", 0)
MARCH = "program=prog&from=2026-03-01&to=2026-03-31"


@pytest.fixture
def data(tenant):
    d = f.build(tenant)
    rollups.rollups_rebuild(tenant=tenant)
    return d


def _csv(client, url) -> list[dict]:
    with time_machine.travel(NOW, tick=False):
        res = client.get(url)
    assert res.status_code == 200
    return list(csv.DictReader(io.StringIO(b"".join(res.streaming_content).decode())))


@pytest.fixture
def client(analyst):
    c = Client()
    c.force_login(analyst)
    return c


def test_every_money_column_is_in_yuan_beside_its_currency(client, data):
    funnel = {r["day"]: r for r in _csv(client, f"/app/analytics/export/funnel.csv?{MARCH}")}
    # 14 March: ¥50 cash + a 10 % coupon that took ¥12 off; 20 March: the ¥20 credit clawed
    # back, a negative number (not text).
    assert funnel["2026-03-14"]["reward_cost"] == "62.00"
    assert funnel["2026-03-20"]["reward_cost"] == "-20.00"
    assert {r["currency"] for r in funnel.values()} == {"CNY"}
    assert "reward_cost_minor" not in funnel["2026-03-14"]

    kpis = {r["kpi"]: r for r in _csv(client, f"/app/analytics/export/kpis.csv?{MARCH}")}
    assert (kpis["reward_cost"]["value"], kpis["reward_cost"]["currency"]) == ("87.00", "CNY")
    assert kpis["cost_per_referred_customer"]["value"] == "29.00"
    assert kpis["reward_cost:points"]["value"] == "15.00"  # 300 points × ¥0.05
    assert kpis["approved_unfulfilled"]["value"] == "15.00"  # ¥7 + ¥8 approved cash
    assert kpis["referred_retention_90d"]["value"] == "not yet"

    rewards = _csv(
        client, "/app/analytics/export/rewards.csv?program=prog&from=2026-01-01&to=2030-12-31"
    )
    by_amount = {r["amount"] for r in rewards if r["kind"] == "cash"}
    assert by_amount == {"50.00", "10.00", "7.00", "8.00"}
    clawed = next(r for r in rewards if r["kind"] == "credit")
    assert (clawed["reversed_amount"], clawed["currency"]) == ("20.00", "CNY")


def test_cells_that_would_run_as_formulas_are_neutralised(client, data, tenant):
    for name, external_id in (("E1", "=HYPERLINK(\"http://x.test\")"), ("E3", "@SUM(A1)"),
                              ("E4", "+1+1"), ("E2", "-2+3")):  # fmt: skip
        getattr(data, name.lower()).__class__.unscoped.filter(
            pk=getattr(data, name.lower()).pk
        ).update(external_id=external_id)
    rows = _csv(client, f"/app/analytics/export/referrals.csv?{MARCH}")
    assert [r["referee"] for r in rows] == [
        "'=HYPERLINK(\"http://x.test\")", "'@SUM(A1)", "'+1+1", "'-2+3",
    ]  # fmt: skip
    assert safe_cell(-20) == -20 and safe_cell("\t=1") == "'\t=1" and safe_cell("a=b") == "a=b"


def test_an_export_above_the_threshold_runs_as_a_job_and_reports_progress_as_it_goes(
    client, data, tenant
):
    ref = data.f1
    rows = (
        exports.SYNC_LIMIT + 1 - Reward.objects.for_tenant(tenant).filter(program=data.prog).count()
    )
    Reward.unscoped.bulk_create(
        Reward(tenant=tenant, program=data.prog, program_version=data.prog.current_version,
               participant=ref.referrer, referral=ref, side="referrer", scope=f"bulk:{i}",
               reason=f"stage:bulk{i}", kind="cash", amount_minor=1234, currency="CNY",
               status="pending")
        for i in range(rows)
    )  # fmt: skip
    job = ExportJob.objects.for_tenant(tenant).create(
        tenant=tenant, kind="rewards", params={"program": "prog", "from": "2026-01-01",
                                               "to": "2030-12-31"},
    )  # fmt: skip
    with CaptureQueriesContext(connection) as queries:
        assert exports.export_run(tenant_id=tenant.pk, job_id=job.pk) == "done"
    # Claim, total, then the progress every 500 lines, then done: the page's bar moves.
    updates = [q["sql"] for q in queries if q["sql"].startswith('UPDATE "analytics_exportjob"')]
    assert len(updates) == 2 + exports.SYNC_LIMIT // 500 + 1
    job.refresh_from_db()
    assert (job.status, job.done, job.total) == ("done", 5001, 5001)
    lines = list(csv.DictReader(io.StringIO(job.content)))
    assert len(lines) == 5001 and lines[-1]["amount"] == "12.34"
