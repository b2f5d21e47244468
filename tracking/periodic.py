"""Tracking's periodic jobs: flush buffered clicks, process events the broker lost."""

from __future__ import annotations

from referral_platform.core.periodic import periodic_job


@periodic_job("tracking.flush_clicks", order=5)
def flush_clicks() -> int:
    from . import clickbuffer

    return clickbuffer.flush()


@periodic_job("tracking.sweep_events", order=10)
def sweep_events() -> dict:
    from .services import events_sweep

    return events_sweep()
