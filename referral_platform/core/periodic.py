"""Running the periodic jobs. `tick`, beat's `core.tick` and the embedded loop run them all.

The jobs themselves are listed, in the order they run, in one table: the project's
`settings.PERIODIC_JOBS` (`referral_platform/schedule.py`), which names each job and the
function of its app that does it. A job takes no arguments, is safe to run at any moment and
any number of times, and returns a small dict (or int) saying what it did.

Each job is isolated: one that raises is logged and counted (its result is
`{"error": ...}`) and the next job runs all the same, so a failing sweep never stops
webhook delivery or the rollups.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable

from django.conf import settings
from django.utils.module_loading import import_string

from .metrics import register_collector

logger = logging.getLogger(__name__)

# Failures per job since this process started (exported as a metric).
FAILURES: Counter[str] = Counter()


def jobs() -> list[tuple[str, Callable[[], object]]]:
    """The table, in order: `(name, function)`."""
    return [(name, func) for name, func in import_string(settings.PERIODIC_JOBS)]


def job_run(name: str, func: Callable[[], object]) -> object:
    """Run one job; an exception is logged and counted and becomes `{"error": ...}`."""
    try:
        return func()
    except Exception as exc:  # noqa: BLE001 - one job's failure must not stop the next
        FAILURES[name] += 1
        logger.exception("periodic job=%s failed", name)
        return {"error": f"{exc.__class__.__name__}: {exc}"[:500]}


def did_something(result: object) -> bool:
    """Whether a job's result reports work done: a non-zero count anywhere in it."""
    if isinstance(result, dict):
        return any(did_something(value) for value in result.values())
    return bool(result)


def run_all() -> dict[str, object]:
    """Every job once, in order. A job that did something is logged at INFO, an idle one at
    DEBUG: a tick every 30 s must not bury what a person looks for in the log."""
    results: dict[str, object] = {}
    for name, func in jobs():
        results[name] = job_run(name, func)
        level = logging.INFO if did_something(results[name]) else logging.DEBUG
        logger.log(level, "periodic job=%s result=%s", name, results[name])
    return results


@register_collector
def _failures():
    for name, count in sorted(FAILURES.items()):
        yield (
            "referral_platform_periodic_job_failures",
            "Periodic jobs that raised, per job, since this process started.",
            {"job": name},
            count,
        )
