"""The demo owner signs in, switches to Chinese and back, and creates an API key once."""

from __future__ import annotations

import re

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.browser


@pytest.fixture
def demo(transactional_db):
    call_command("seed_demo", "--no-data", verbosity=0)


def _switch_language(page, code: str) -> None:
    page.click("[data-testid=language-switch] .dropdown-toggle")
    page.click(f"[data-testid=language-switch] button[lang={code}]")
    page.wait_for_load_state("load")


def test_owner_signs_in_switches_language_and_sees_a_new_key_once(
    live_server, page, demo, shot, staff_login
):
    staff_login(page, live_server, "owner@demo.test", "demo-owner-pass")
    assert page.locator("[data-testid=tenant-switcher]").is_visible()
    nav = page.locator("#navbar-menu")
    assert "Programs" in nav.inner_text()
    shot(page, "shell-home-en")

    _switch_language(page, "zh-hans")
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    assert "推荐计划" in nav.inner_text() and "审核队列" in nav.inner_text()
    shot(page, "shell-home-zh")
    _switch_language(page, "en")
    assert "Programs" in nav.inner_text()

    page.goto(live_server.url + "/app/settings/api-keys/")
    page.fill("input[name=name]", "browser-test")
    page.click("text=Create key")
    key = page.locator("#new-api-key").input_value()
    assert re.fullmatch(r"rk_live_[0-9a-f]{8}\.[\w-]{20,}", key)
    shot(page, "api-key-created")
    page.goto(live_server.url + "/app/settings/api-keys/")
    assert page.locator("#new-api-key").count() == 0
    assert key not in page.content()
    assert key.split(".")[0] in page.content()
    assert page.console_problems == []


def test_shell_fits_a_small_phone(live_server, mobile_page, demo, shot, staff_login):
    page = mobile_page
    staff_login(page, live_server, "owner@demo.test", "demo-owner-pass")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360 + 1
    page.click(".navbar-toggler")
    page.locator("#navbar-menu").get_by_text("Settings", exact=True).wait_for()
    page.wait_for_timeout(400)  # let the collapse animation finish before the screenshot
    shot(page, "shell-home-360")
    assert page.console_problems == []
