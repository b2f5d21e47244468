"""Tracking's periodic job: flush buffered clicks (the event sweep is the flow's, in
`pipeline.jobs`). The order of all jobs is `referral_platform/schedule.py`."""

from __future__ import annotations


def flush_clicks() -> int:
    from . import clickbuffer

    return clickbuffer.flush()
