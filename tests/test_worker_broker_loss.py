"""The worker survives losing its broker: a real `celery worker` on a private redis-server,
the redis-server stopped for a few seconds and started again on the same port. The worker
must still be running afterwards (it reconnects for as long as it takes:
`broker_connection_max_retries=None`) and must process a task sent after the outage.
Needs a `redis-server` binary; the Redis is our own, on its own port, never the shared one.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from celery import Celery

from referral_platform.core.testing import private_redis_or_skip

ROOT = Path(__file__).resolve().parent.parent

pytestmark = [pytest.mark.celery_worker, pytest.mark.slow]


@pytest.fixture
def redis_():
    server = private_redis_or_skip()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def worker(redis_):
    log = ROOT / "test-artifacts" / "broker-loss-worker.log"
    log.parent.mkdir(exist_ok=True)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "referral_platform.settings.local",
        "REDIS_URL": redis_.url,
        "CELERY_RESULT_BACKEND": redis_.url,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "DEBUG": "false",
        "LOG_LEVEL": "WARNING",
    }
    with log.open("w") as out:
        process = subprocess.Popen(
            # As compose runs it (a prefork pool, gossip and mingle on), two children here.
            [sys.executable, "-m", "celery", "-A", "referral_platform", "worker",
             "--concurrency", "2", "--loglevel", "INFO"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
        process.log = log
        yield process
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


def _client(url: str) -> Celery:
    # A client of our own, not the project's app: the test changes no global configuration
    # (nor celery's current app, which later tests' tasks would otherwise be sent through).
    return Celery("broker-loss-test", broker=url, backend=url, set_as_current=False)


def _echo(client: Celery, value: int, timeout: float) -> list:
    # `celery.accumulate` is built in: it answers its arguments, so an answer means the
    # worker took the task from the broker, ran it and stored the result. This test is no
    # task: celery's process-wide "inside a task" flag, which another test of the session
    # may have left set by running a worker in this process, must not refuse the wait.
    result = client.send_task("celery.accumulate", args=(value,))
    return result.get(timeout=timeout, disable_sync_subtasks=False)


def test_the_worker_survives_the_broker_going_away_and_processes_tasks_after(redis_, worker):
    client = _client(redis_.url)
    assert _echo(client, 1, timeout=60) == [1]

    redis_.stop()
    time.sleep(5)
    assert worker.poll() is None, worker.log.read_text()[-3000:]
    redis_.start()  # the same port, empty: a crashed broker without persistence

    client = _client(redis_.url)
    assert _echo(client, 2, timeout=90) == [2]
    assert worker.poll() is None, worker.log.read_text()[-3000:]
    # A second outage right after the first recovers the same way.
    redis_.stop()
    time.sleep(3)
    redis_.start()
    assert _echo(_client(redis_.url), 3, timeout=90) == [3]
    assert worker.poll() is None
