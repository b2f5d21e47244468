"""A real `celery worker` process on the configured Redis runs a task pushed from here.

Needs REDIS_URL (skipped without it; fails instead under REQUIRE_SERVICES=1, as in CI).
The worker listens on a queue of its own, so parallel runs and a real deployment's
workers on the same Redis never take each other's tasks. `core.ping` touches no database.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from celery import Celery

from referral_platform.core.testing import redis_url_or_skip

ROOT = Path(__file__).resolve().parent.parent

pytestmark = [pytest.mark.celery_worker, pytest.mark.slow]


@pytest.fixture
def worker():
    redis_url = redis_url_or_skip()
    queue = f"test-{uuid.uuid4().hex[:12]}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "referral_platform.settings.local",
        "REDIS_URL": redis_url,
        "CELERY_RESULT_BACKEND": redis_url,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "DEBUG": "false",
    }
    log = ROOT / "test-artifacts" / f"worker-{queue}.log"
    log.parent.mkdir(exist_ok=True)
    with log.open("w") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "referral_platform",
                "worker",
                "-Q",
                queue,
                "-n",
                f"{queue}@%h",
                "--pool",
                "solo",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "--loglevel",
                "INFO",
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            yield {"queue": queue, "redis_url": redis_url, "log": log, "process": process}
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


def test_a_real_worker_runs_a_task_pushed_through_redis(worker):
    # Not the current app: the project's shared tasks must keep publishing to their own broker.
    client = Celery(
        "worker-test", broker=worker["redis_url"], backend=worker["redis_url"], set_as_current=False
    )
    token = uuid.uuid4().hex
    deadline = time.monotonic() + 90
    result = client.send_task("core.ping", args=[token], queue=worker["queue"])
    while not result.ready():
        if worker["process"].poll() is not None:
            pytest.fail("the worker exited:\n" + worker["log"].read_text()[-3000:])
        if time.monotonic() > deadline:
            pytest.fail("no answer in 90 s:\n" + worker["log"].read_text()[-3000:])
        time.sleep(0.2)
    # Ready already: reading it cannot block, whatever an earlier in-process task left set.
    assert result.get(timeout=5, disable_sync_subtasks=False) == f"pong:{token}"
    assert "core.ping" in worker["log"].read_text()
    result.forget()
