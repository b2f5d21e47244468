"""The house task decorator and the one periodic task.

Every task: an explicit name, acks_late, reject_on_worker_lost, time limits, primitive
arguments. Retries are for transient errors only and are declared per task.
"""

from __future__ import annotations

import logging

from celery import shared_task
from celery.utils import uuid
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
            publish(task, *args)
        except (KombuError, OSError) as exc:
            logger.warning("task %s not enqueued, the broker is unreachable: %s", task.name, exc)

    transaction.on_commit(send)


# Options a task may set that change where or how long its messages go: such a task is sent
# by `delay` itself, which knows what to do with them.
_OWN_ROUTING = ("queue", "routing_key", "exchange", "priority", "expires", "delivery_mode")


def publish(task, *args) -> None:
    """The message `task.delay(*args)` sends, for a fifth less (enqueue_on_commit's path).

    `delay` goes through `apply_async` and `send_task`, which merge options, render the
    arguments with saferepr and build an AsyncResult that nobody reads here: about 0.13 ms
    of the 0.6 ms an accepted event spent publishing (the rest is kombu's). This builds the
    same protocol-2 message (the task's time limits included) and sends it through the same
    router, producer pool and publish retry policy, with Celery's documented `app.amqp` API.
    In process (eager), inside a worker task (whose messages carry their parent's ids) and
    for a task with routing or expiry options of its own, `delay` runs instead."""
    app = task.app
    if (
        app.conf.task_always_eager
        or app.current_worker_task is not None
        or any(getattr(task, option, None) is not None for option in _OWN_ROUTING)
    ):
        task.delay(*args)
        return
    amqp = app.amqp
    argsrepr = repr(args)  # the house's task arguments are ids: repr is what saferepr gives
    message = amqp.create_task_message(
        uuid(),
        task.name,
        args,
        {},
        reply_to=app.thread_oid,
        time_limit=task.time_limit,
        soft_time_limit=task.soft_time_limit,
        ignore_result=task.ignore_result,
        argsrepr=argsrepr if len(argsrepr) <= amqp.argsrepr_maxsize else None,
        kwargsrepr="{}",
    )
    options = amqp.router.route({}, task.name, args, {}, task)
    with app.producer_pool.acquire(block=True) as producer:
        amqp.send_task_message(producer, task.name, message, serializer=task.serializer, **options)


@task("core.tick", soft_time_limit=300, time_limit=360)
def tick_task() -> dict:
    from .periodic import run_all

    return run_all()


@task("core.job", soft_time_limit=120, time_limit=150)
def job_task(name: str) -> object:
    """One job of the table on a schedule of its own (beat's `sweep-events` runs the event
    sweep every EVENTS_SWEEP_SECONDS), isolated as in `core.tick`."""
    from .periodic import job_run, jobs

    return job_run(name, dict(jobs())[name])


@task("core.ping")
def ping_task(value: str) -> str:
    """Round trip through the broker; the worker test and /healthz use it."""
    return f"pong:{value}"
