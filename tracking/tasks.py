"""Tracking's tasks: load by id inside the tenant, call one service, safe to run twice."""

from __future__ import annotations

from referral_platform.core.tasks import task


@task("tracking.events_process", soft_time_limit=120, time_limit=150)
def events_process_task(tenant_id: int, event_pks: list[int]) -> dict:
    # The task's name and its enqueueing stay with event ingest; processing is the flow.
    from pipeline.flow import events_process

    return events_process([int(pk) for pk in event_pks])
