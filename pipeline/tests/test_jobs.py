"""The periodic jobs: one ordered table, each job isolated."""

from __future__ import annotations

from referral_platform import schedule
from referral_platform.core import periodic
from referral_platform.core.metrics import render_metrics

RAN: list[str] = []


def _boom():
    RAN.append("boom")
    raise RuntimeError("tiers table locked")


def _after():
    RAN.append("after")
    return {"done": 1}


TABLE = (("test.boom", _boom), ("test.after", _after))


def test_a_raising_job_is_logged_and_counted_and_the_next_job_still_runs(settings, caplog):
    settings.PERIODIC_JOBS = "pipeline.tests.test_jobs.TABLE"
    RAN.clear()
    before = periodic.FAILURES["test.boom"]

    results = periodic.run_all()

    assert RAN == ["boom", "after"]
    assert results == {
        "test.boom": {"error": "RuntimeError: tiers table locked"},
        "test.after": {"done": 1},
    }
    assert periodic.FAILURES["test.boom"] == before + 1
    assert "periodic job=test.boom failed" in caplog.text
    assert (
        f'referral_platform_periodic_job_failures{{job="test.boom"}} {before + 1}'
        in render_metrics()
    )


def test_webhook_delivery_and_the_rollups_run_after_a_failing_sweep(settings, db):
    TABLE_WITH_REAL = (("test.boom", _boom), *schedule.JOBS)
    settings.PERIODIC_JOBS = "pipeline.tests.test_jobs.TABLE_WITH_REAL"
    globals()["TABLE_WITH_REAL"] = TABLE_WITH_REAL

    results = periodic.run_all()

    assert "error" in results["test.boom"]
    assert results["webhooks.deliver"] == {}
    assert results["analytics.rollups"] == {"tenants": 0, "days": 0, "customers": 0}


def test_the_table_runs_events_before_the_sweeps_and_delivery_last():
    names = [name for name, _ in periodic.jobs()]
    assert names == [name for name, _ in schedule.JOBS]
    assert names.index("tracking.flush_clicks") < names.index("tracking.sweep_events")
    assert names.index("tracking.sweep_events") < names.index("rewards.tiers")
    assert names.index("rewards.release_due") < names.index("rewards.fulfil_approved")
    assert names[-3:] == ["analytics.rollups", "webhooks.deliver", "analytics.exports"]
    assert len(set(names)) == len(names)


def test_beat_runs_the_event_sweep_alone_every_fifteen_seconds(settings):
    from referral_platform.core.tasks import job_task

    entry = settings.CELERY_BEAT_SCHEDULE["sweep-events"]
    assert (entry["task"], entry["args"], entry["schedule"]) == (
        "core.job", ["tracking.sweep_events"], 15.0,
    )  # fmt: skip
    settings.PERIODIC_JOBS = "pipeline.tests.test_jobs.TABLE"
    RAN.clear()
    assert job_task("test.after") == {"done": 1}
    assert job_task("test.boom") == {"error": "RuntimeError: tiers table locked"}
    assert RAN == ["after", "boom"]
