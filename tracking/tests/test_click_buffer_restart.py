"""A buffered click survives a restart of the web process that took it.

The redirect appends its click to an in-process list that a thread ships to Redis every half
second; a web process stopped the ordinary way (SIGTERM, as a deploy or gunicorn's
max-requests recycling does) ships what it still holds on exit, and the flush job writes it.
Needs PostgreSQL (the web process reads the test database) and a `redis-server` binary.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.db import connection

from referral_platform.core.testing import (
    database_url,
    free_port,
    private_redis_or_skip,
    require_or_skip,
)
from tracking import clickbuffer
from tracking.models import Click

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def start_web(redis_url: str, port: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "referral_platform.settings.local",
        "DATABASE_URL": database_url(connection.settings_dict),
        "REDIS_URL": "",
        "TRACKING_CLICK_BUFFER_URL": redis_url,
        "LOG_LEVEL": "WARNING",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "referral_platform.wsgi:application",
         "-b", f"127.0.0.1:{port}", "-w", "1", "--log-level", "warning"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    for _ in range(200):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)  # noqa: S310
            return process
        except urllib.error.HTTPError:
            return process  # answering (healthz may report Redis as absent)
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("gunicorn did not start")


def click(port: int, code: str) -> int:
    opener = urllib.request.build_opener(NoRedirect)
    try:
        opener.open(f"http://127.0.0.1:{port}/r/{code}", timeout=5)
    except urllib.error.HTTPError as answer:
        return answer.code
    return 200


def test_a_buffered_click_survives_a_web_process_restart(alice_code, settings):
    if connection.vendor != "postgresql":
        require_or_skip("the restart test needs PostgreSQL (set DATABASE_URL)")
    redis_ = private_redis_or_skip()
    redis_.start()
    settings.TRACKING_CLICK_BUFFER_URL = redis_.url
    port = free_port()
    try:
        web = start_web(redis_.url, port)
        assert click(port, alice_code.code) == 302
        # Stopped at once, well inside the shipper's half-second round.
        web.send_signal(signal.SIGTERM)
        assert web.wait(20) == 0
        assert Click.unscoped.count() == 0  # nothing written yet: it waits in Redis

        web = start_web(redis_.url, port)
        assert click(port, alice_code.code) == 302
        web.send_signal(signal.SIGTERM)
        web.wait(20)

        assert clickbuffer.flush() == 2
        assert Click.unscoped.filter(code=alice_code.code).count() == 2
    finally:
        redis_.stop()
