"""The registry of periodic jobs. `tick`, beat's `core.tick` and the embedded loop run them all.

Each app registers its jobs in its own `periodic.py` with `@periodic_job("name")`. A job
takes no arguments, is safe to run at any moment and any number of times, and returns a
small dict (or int) saying what it did.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

logger = logging.getLogger(__name__)

_JOBS: dict[str, tuple[int, Callable[[], object]]] = {}


def periodic_job(name: str, *, order: int = 100):
    """Register a job; lower `order` runs first (e.g. sweep events before releasing rewards)."""

    def decorate(func):
        _JOBS[name] = (order, func)
        return func

    return decorate


def jobs() -> list[tuple[str, Callable[[], object]]]:
    return [
        (name, func) for name, (_, func) in sorted(_JOBS.items(), key=lambda kv: (kv[1][0], kv[0]))
    ]


def run_all() -> dict[str, object]:
    results: dict[str, object] = {}
    for name, func in jobs():
        results[name] = func()
        logger.info("periodic job=%s result=%s", name, results[name])
    return results
