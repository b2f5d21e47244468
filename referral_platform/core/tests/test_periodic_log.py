"""A tick logs what its jobs did, not every idle job: `manage.py serve` ticks every 30 s."""

import logging

from django.test import override_settings

from referral_platform.core import periodic

JOBS = "referral_platform.core.tests.test_periodic_log.JOBS_TABLE"
JOBS_TABLE = (
    ("idle.zero", lambda: 0),
    ("idle.nested", lambda: {"processed": 0, "failed": 0, "by_kind": {}}),
    ("busy.count", lambda: {"processed": 2, "failed": 0}),
    ("busy.error", lambda: 1 / 0),
)


@override_settings(PERIODIC_JOBS=JOBS)
def test_idle_jobs_are_logged_at_debug_and_busy_or_failing_ones_at_info(caplog):
    with caplog.at_level(logging.DEBUG, logger="referral_platform.core.periodic"):
        results = periodic.run_all()
    assert results["busy.count"] == {"processed": 2, "failed": 0}
    assert results["busy.error"] == {"error": "ZeroDivisionError: division by zero"}
    levels = {
        r.args[0]: r.levelname for r in caplog.records if r.msg.startswith("periodic job=%s result")
    }
    assert levels == {
        "idle.zero": "DEBUG", "idle.nested": "DEBUG", "busy.count": "INFO", "busy.error": "INFO",
    }  # fmt: skip
