"""Helpers for tests that need real services (Redis, a browser) or a second process.

`require_or_skip(reason)` skips a test when something it needs is missing — unless
REQUIRE_SERVICES=1 (CI), where the same situation fails the test instead, so a green
CI run has really exercised the worker and the browser.
"""

from __future__ import annotations

import os
import shutil

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
