"""Every staff page reached from the navigation, crawled as the demo owner: one `main`
landmark, one `h1`, a label for every input, a visible keyboard focus, and axe-core (vendored
under tests/browser/vendor) reports no serious or critical violation."""

from __future__ import annotations

import re
from urllib.parse import urlparse

import pytest
from django.core.management import call_command

from tests.browser.test_portal_customer import axe_problems

pytestmark = pytest.mark.browser

SKIP = re.compile(r"logout|/export|\.json$|\.csv$|\.png$|\.pdf$|/download|/status/|/i18n/")
MAX_PAGES = 70


@pytest.fixture
def demo(transactional_db):
    call_command("seed_demo", "--no-data", verbosity=0)


def _shape(path: str) -> str:
    """Pages that differ only by an id or a program are the same page to check."""
    return re.sub(r"/\d+/", "/N/", path)


def _links(page, origin: str) -> list[str]:
    hrefs = page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)")
    out = []
    for href in hrefs:
        url = urlparse(href)
        if f"{url.scheme}://{url.netloc}" != origin or not url.path.startswith("/app/"):
            continue
        if SKIP.search(url.path):
            continue
        out.append(url.path + (f"?{url.query}" if url.query and "v=" in url.query else ""))
    return out


def _crawl(page, origin: str, check) -> int:
    """Walk the staff navigation from the programs page, one page of each shape (at most
    MAX_PAGES); `check(path)` looks at each page reached. Returns how many were seen."""
    queue, seen, shapes = ["/app/programs/"], set(), set()
    while queue and len(seen) < MAX_PAGES:
        path = queue.pop(0)
        if path in seen or _shape(path) in shapes:
            continue
        seen.add(path)
        shapes.add(_shape(path))
        response = page.goto(origin + path)
        if response is None or response.status >= 400 or "/app/" not in page.url:
            continue
        check(path)
        queue += [link for link in _links(page, origin) if link not in seen]
    return len(seen)


def test_every_staff_page_has_landmarks_labels_focus_and_no_serious_axe_violation(
    live_server, page, demo, staff_login
):
    staff_login(page, live_server, "owner@demo.test", "demo-owner-pass")
    problems = {}

    def check(path):
        found = []
        if page.locator("main").count() != 1:
            found.append(f"{page.locator('main').count()} main landmarks")
        if page.locator("h1").count() != 1:
            found.append(f"{page.locator('h1').count()} h1 headings")
        found += axe_problems(page)
        if found:
            problems[path] = found

    assert _crawl(page, live_server.url, check) >= 25
    assert problems == {}


def test_keyboard_focus_is_visible(live_server, page, demo, staff_login):
    staff_login(page, live_server, "owner@demo.test", "demo-owner-pass")
    page.goto(live_server.url + "/app/programs/")
    page.keyboard.press("Tab")
    focused = page.evaluate(
        "() => { const e = document.activeElement; const s = getComputedStyle(e);"
        " return [e.textContent.trim(), s.outlineStyle, s.outlineWidth]; }"
    )
    assert focused[0] == "Skip to content"
    assert focused[1] == "solid" and focused[2] == "3px"
    page.keyboard.press("Tab")
    style = page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")
    assert style == "solid"


@pytest.fixture
def demo_with_data(transactional_db):
    call_command("seed_demo", verbosity=0)


def test_on_a_phone_no_staff_page_scrolls_sideways(
    live_server, mobile_page, demo_with_data, staff_login
):
    """With the demo's data in the tables: wide tables scroll inside their card, the page
    itself keeps the screen's width."""
    page = mobile_page
    staff_login(page, live_server, "owner@demo.test", "demo-owner-pass")
    too_wide = {}

    def check(path):
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        if overflow > 0:
            too_wide[path] = overflow

    assert _crawl(page, live_server.url, check) >= 25
    assert too_wide == {}, too_wide
