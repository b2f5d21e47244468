"""Shared Playwright fixtures: Debian's Chromium (never a downloaded browser), pages at a
desktop size and at 360 px, and screenshots into test-artifacts/.

    @pytest.mark.browser
    def test_something(live_server, page, shot):
        page.goto(live_server.url + "/accounts/login/")
        shot(page, "login")

`login(page, live_server, email, password)` signs a staff member in through the real form.
Without Chromium or Playwright the tests skip (fail under REQUIRE_SERVICES=1).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from referral_platform.core.testing import CHROMIUM_ARGS, chromium_or_skip

# Playwright's sync API runs an event loop in this thread; the ORM calls made by the test
# itself (fixtures, assertions) are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
DESKTOP = {"width": 1280, "height": 900}
MOBILE = {"width": 360, "height": 740}


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser():
    executable = chromium_or_skip()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield instance
        finally:
            instance.close()


def _page(browser, viewport, request):
    context = browser.new_context(viewport=viewport, locale="en-US")
    context.set_default_timeout(15_000)
    page = context.new_page()
    problems: list[str] = []
    page.on(
        "console",
        lambda msg: (
            problems.append(msg.text)
            if msg.type == "error" or "Content Security Policy" in msg.text
            else None
        ),
    )
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.console_problems = problems
    yield page
    if request.node.rep_call_failed if hasattr(request.node, "rep_call_failed") else False:
        _save(page, f"FAILED-{request.node.name}")
    context.close()


@pytest.fixture
def page(browser, request):
    """A desktop-sized page; `page.console_problems` lists JS errors and CSP violations."""
    yield from _page(browser, DESKTOP, request)


@pytest.fixture
def mobile_page(browser, request):
    """A 360 px wide page (a small phone)."""
    yield from _page(browser, MOBILE, request)


def _save(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / (re.sub(r"[^\w.-]+", "_", name) + ".png")
    try:
        page.screenshot(path=str(path), full_page=True, timeout=60_000)
    except PlaywrightTimeoutError:
        # A very tall page on a loaded machine: the visible part still documents the run.
        page.screenshot(path=str(path), timeout=60_000)
    return path


@pytest.fixture
def shot():
    """`shot(page, "name")` saves a full-page PNG to test-artifacts/ and returns its path."""
    return _save


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when == "call":
        item.rep_call_failed = report.failed


def login(page, live_server, email: str, password: str) -> None:
    page.goto(live_server.url + "/accounts/login/")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", password)
    page.click("form button[type=submit]")
    page.wait_for_url(re.compile(r".*/app/.*"))


@pytest.fixture
def staff_login():
    """`staff_login(page, live_server, email, password)`: sign in through the real form."""
    return login
