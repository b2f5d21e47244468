"""The house task decorator and the one periodic task.

Every task: an explicit name, acks_late, reject_on_worker_lost, time limits, primitive
arguments. Retries are for transient errors only and are declared per task.
"""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import transaction
from kombu.exceptions import KombuError

logger = logging.getLogger(__name__)


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


def enqueue_on_commit(task, *args) -> None:
    """`task.delay(*args)` once the current transaction commits (at once outside one).

    A broker that cannot be reached is logged, never raised: the caller's rows are committed
    by then, and raising would fail a request or a sweep over work that is only delayed (the
    periodic sweeps pick up unprocessed events and undelivered webhooks)."""

    def send() -> None:
        try:
            task.delay(*args)
        except (KombuError, OSError) as exc:
            logger.warning("task %s not enqueued, the broker is unreachable: %s", task.name, exc)

    transaction.on_commit(send)


@task("core.tick", soft_time_limit=300, time_limit=360)
def tick_task() -> dict:
    from .periodic import run_all

    return run_all()


@task("core.ping")
def ping_task(value: str) -> str:
    """Round trip through the broker; the worker test and /healthz use it."""
    return f"pong:{value}"
