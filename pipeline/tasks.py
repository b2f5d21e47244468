"""The flow's tasks: load by id inside the tenant, call the flow, safe to run twice."""

from __future__ import annotations

from referral_platform.core.tasks import task

from . import flow


# The name is event ingest's (tracking enqueues it, through `tracking.services.events
# .events_process_task`, which pipeline fills at start-up); messages already queued under it
# keep working.
@task("tracking.events_process", soft_time_limit=120, time_limit=150)
def events_process_task(tenant_id: int, event_pks: list[int]) -> dict:
    return flow.events_process([int(pk) for pk in event_pks])
