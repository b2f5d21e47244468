"""The house task decorator and the one periodic task.

Every task: an explicit name, acks_late, reject_on_worker_lost, time limits, primitive
arguments. Retries are for transient errors only and are declared per task.
"""

from __future__ import annotations

from celery import shared_task


def task(name: str, *, soft_time_limit: int = 60, time_limit: int = 90, **options):
    def decorate(func):
        return shared_task(
            name=name,
            acks_late=True,
            reject_on_worker_lost=True,
            soft_time_limit=soft_time_limit,
            time_limit=time_limit,
            **options,
        )(func)

    return decorate


@task("core.tick", soft_time_limit=300, time_limit=360)
def tick_task() -> dict:
    from .periodic import run_all

    return run_all()


@task("core.ping")
def ping_task(value: str) -> str:
    """Round trip through the broker; the worker test and /healthz use it."""
    return f"pong:{value}"
