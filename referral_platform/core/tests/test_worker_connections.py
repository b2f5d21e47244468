"""A worker keeps its PostgreSQL connection from one task to the next, as a web process
keeps it from one request to the next, and drops it past CONN_MAX_AGE. Celery's Django
fixup (what a worker installs) closes every connection around every task unless
CELERY_DB_REUSE_MAX is set: each chunk of events would then pay a new backend."""

from __future__ import annotations

import time
from types import SimpleNamespace

import pytest
from celery.fixups.django import DjangoWorkerFixup
from celery.signals import task_postrun, task_prerun
from django.db import connection

from referral_platform.celery import app
from referral_platform.core.testing import require_or_skip

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def postgres_only():
    if connection.vendor != "postgresql":
        require_or_skip("a connection that closes needs PostgreSQL (set DATABASE_URL)")


@pytest.fixture
def max_age():
    """CONN_MAX_AGE as production sets it, on a connection opened under it."""
    before = connection.settings_dict["CONN_MAX_AGE"]
    connection.settings_dict["CONN_MAX_AGE"] = 60
    connection.close()
    yield
    connection.settings_dict["CONN_MAX_AGE"] = before
    connection.close()


def backend() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


class Task:
    """A task as the worker runs it: not eagerly, in its caller."""

    request = SimpleNamespace(is_eager=False)


def run_task(fixup: DjangoWorkerFixup) -> int:
    """What a worker process does around a task that reads the database: the fixup's hooks
    and the signals' receivers before, the task, then both after. The task's backend."""
    task = Task()
    fixup.on_task_prerun(sender=task)
    task_prerun.send(sender=task, task_id="t", task=task, args=(), kwargs={})
    pid = backend()
    fixup.on_task_postrun(sender=task)
    task_postrun.send(sender=task, task_id="t", task=task, args=(), kwargs={}, retval=None)
    return pid


def test_a_worker_runs_its_tasks_on_one_connection(max_age):
    fixup = DjangoWorkerFixup(app)
    assert fixup.db_reuse_max == 1000  # from the settings
    pids = [run_task(fixup) for _ in range(5)]
    assert len(set(pids)) == 1
    # Without the setting, Celery's fixup closes it around every task.
    fixup.db_reuse_max = None
    assert len({run_task(fixup) for _ in range(3)}) == 3


def test_a_connection_past_its_max_age_is_replaced_before_the_next_task(max_age):
    fixup = DjangoWorkerFixup(app)
    first = run_task(fixup)
    assert run_task(fixup) == first
    connection.close_at = time.monotonic() - 1  # sixty seconds have passed
    assert run_task(fixup) != first
