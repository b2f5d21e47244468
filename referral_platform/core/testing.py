"""Helpers for tests that need real services (Redis, a browser) or a second process.

`require_or_skip(reason)` skips a test when something it needs is missing — unless
REQUIRE_SERVICES=1 (CI), where the same situation fails the test instead, so a green
CI run has really exercised the worker and the browser.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from contextlib import contextmanager

import pytest

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]


def services_required() -> bool:
    return os.environ.get("REQUIRE_SERVICES", "") in ("1", "true", "yes")


def require_or_skip(reason: str) -> None:
    """Skip with `reason`, or fail under REQUIRE_SERVICES=1."""
    if services_required():
        pytest.fail(f"REQUIRE_SERVICES=1 but: {reason}", pytrace=False)
    pytest.skip(reason)


def redis_url_or_skip() -> str:
    """The configured REDIS_URL if Redis answers there."""
    url = os.environ.get("REDIS_URL", "")
    if not url:
        require_or_skip("REDIS_URL is not set")
    import redis

    try:
        redis.Redis.from_url(url, socket_timeout=2).ping()
    except redis.RedisError as exc:
        require_or_skip(f"Redis at {url} does not answer: {exc}")
    return url


def chromium_or_skip() -> str:
    """Debian's Chromium (never a downloaded browser) and the Playwright package."""
    if not (os.path.exists(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        found = shutil.which("chromium")
        if not found:
            require_or_skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
        return found
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        require_or_skip("the playwright package is not installed")
    return CHROMIUM


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PrivateRedis:
    """A `redis-server` of the test's own on a free port, without persistence: stopping it
    loses every queued message, as a crashed production broker would. Never the shared one."""

    def __init__(self):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = None

    def start(self):
        # A fixed argument list of our own: nothing from outside reaches the command line.
        self.process = subprocess.Popen(  # noqa: S603
            [  # noqa: S607 — redis-server from PATH, as the test instructions install it
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        import redis

        for _ in range(100):
            try:
                redis.Redis.from_url(self.url, socket_timeout=0.2).ping()
                return
            except redis.RedisError:
                time.sleep(0.05)
        raise RuntimeError("private redis did not start")

    def stop(self):
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)
            self.process = None


def private_redis_or_skip() -> PrivateRedis:
    if not shutil.which("redis-server"):
        require_or_skip("this test starts its own redis-server, which is not installed")
    return PrivateRedis()


def database_url(settings_dict: dict) -> str:
    """The URL of the (test) database in `settings_dict`, for a worker in another process."""
    s = settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s.get("PASSWORD") else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def race(n: int, target, *, expected: tuple[type[BaseException], ...] = ()) -> list:
    """Run `target(i)` in `n` threads released together (each with its own database
    connection), and return what each returned, or the exception it raised when that is one
    of `expected`; any other exception fails the test."""
    import threading

    from django.db import connections

    barrier = threading.Barrier(n)
    results, errors = [], []

    def run(i):
        try:
            barrier.wait()
            results.append(target(i))
        except expected as exc:
            results.append(exc)
        except Exception as exc:  # noqa: BLE001 — surfaced by the assertion below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    return results


def wait_for(condition, seconds: float = 60, interval: float = 0.3) -> bool:
    """Poll `condition()` until it holds or `seconds` pass; its last answer."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return condition()


def drop_broker_connections(app) -> None:
    """Forget the Celery app's connections: the producer pool keeps those to the broker it
    was made for, so a test that points the app at another broker calls this. The app's
    pool is kombu's process-wide one for that broker: closing it without emptying kombu's
    registry left a closed pool there, which the next test on that broker was handed
    ("Acquire on closed pool"); `pools.reset` closes and forgets them all."""
    from kombu import pools

    pools.reset()
    app._pool = None
    app.amqp._producer_pool = None


@contextmanager
def keep_test_connection():
    """For tests that call a real WSGI handler rather than Django's test client: the handler's
    request_started and request_finished signals run `close_old_connections`, which on
    PostgreSQL closes the test's connection in the middle of its transaction. The test
    client disconnects it the same way."""
    from django.core import signals
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)
