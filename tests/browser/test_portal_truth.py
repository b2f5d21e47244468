"""What the portal and the invite page tell a customer on a 390 × 844 phone, in both
languages: the portal's amounts, dates and counts equal the API's; the language switch is
remembered; a copy variant shows on the invite page and is stored on the referral it makes;
axe-core finds no serious or critical problem on the portal, the invite page, the widget and
the error pages."""

from __future__ import annotations

import time
from datetime import datetime
from urllib.parse import urlsplit

import pytest

from referral_platform.core import clock
from referral_platform.core.money import format_minor
from tests.browser.test_portal_customer import PHONE_UA, _alice_shop, axe_problems

pytestmark = pytest.mark.browser

PHONE_390 = {"width": 390, "height": 844}
LOCALES = {"en": "en-US", "zh-hans": "zh-CN"}
HEADLINES = {"plain": "¥20 off your first order over ¥99, plus free shipping",
             "warm": "A gift from a friend: ¥20 off and free shipping"}  # fmt: skip
COPY_EXPERIMENT = [
    {"key": "invite_copy", "side": "referee", "variants": [
        {"key": "plain", "weight": 50, "label": "Plain"},
        {"key": "warm", "weight": 50, "label": "Warm",
         "overrides": {"offer": {"headline": HEADLINES["warm"]}}},
    ]},
]  # fmt: skip


def _phone(browser, live_server, language: str):
    context = browser.new_context(viewport=PHONE_390, locale=LOCALES[language], user_agent=PHONE_UA)
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.problems = []
    page.on("pageerror", lambda exc: page.problems.append(str(exc)))
    return context, page


def _session_path(api) -> str:
    url = api.post("/api/v1/portal-sessions", {"participant": "alice"}, format="json").json()["url"]
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def _api_rewards(api) -> dict[int, dict]:
    rows = api.get("/api/v1/rewards", {"participant": "alice"}).json()["results"]
    return {r["id"]: r for r in rows}


@pytest.fixture
def shop(transactional_db):
    return _alice_shop(experiments=COPY_EXPERIMENT)


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_portals_amounts_dates_and_counts_are_the_apis(
    live_server, browser, shop, shot, language
):
    tenant, api, _code = shop
    context, page = _phone(browser, live_server, language)
    page.goto(live_server.url + _session_path(api))
    assert page.locator("html").get_attribute("lang") == language
    now = clock.now()
    api_rewards = _api_rewards(api)
    items = page.locator("[data-testid=reward]")
    assert items.count() == len(api_rewards) > 0
    for i in range(items.count()):
        item = items.nth(i)
        reward = api_rewards[int(item.get_attribute("data-reward"))]
        value = item.locator("[data-testid=reward-value]").inner_text()
        if reward["amount"]:
            money = reward["amount"]
            assert format_minor(money["amount_minor"], money["currency"]) in value
        elif reward["points"]:
            assert str(reward["points"]) in value
        dates = item.locator("[data-testid=reward-date]")
        due = datetime.fromisoformat(reward["due_at"]) if reward["due_at"] else None
        if reward["status"] == "pending" and reward["hold_reason"] in (None, "hold"):
            if due and due > now:
                shown = datetime.fromisoformat(dates.get_attribute("datetime"))
                assert shown == due.replace(microsecond=0)
            else:
                assert dates.count() == 0
    referrals = api.get("/api/v1/referrals", {"referrer": "alice"}).json()["results"]
    converted = sum(1 for r in referrals if r["status"] in ("converted", "retained"))
    assert page.locator("[data-testid=count-successful]").inner_text() == str(converted)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE_390["width"]
    assert axe_problems(page) == []
    shot(page, f"portal-truth-{language}-390")
    assert page.problems == []
    context.close()


def test_the_language_switch_is_remembered(live_server, browser, shop, shot):
    from tracking.models import Participant

    tenant, api, code = shop
    context, page = _phone(browser, live_server, "en")
    page.goto(live_server.url + _session_path(api))
    assert page.locator("html").get_attribute("lang") == "en"
    page.get_by_role("button", name="简体中文").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    assert page.locator("#rewards-h").inner_text() == "你的奖励"
    page.reload()
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    assert Participant.objects.for_tenant(tenant).get(external_id="alice").locale == "zh-hans"
    # The invite page in the same browser follows the choice too.
    page.goto(f"{live_server.url}/i/{code}")
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    assert axe_problems(page) == []
    shot(page, "invite-zh-390")
    page.get_by_role("button", name="English").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "en"
    page.reload()
    assert page.locator("html").get_attribute("lang") == "en"
    context.close()


def test_a_copy_variant_shows_on_the_invite_page_and_stays_on_the_referral(
    live_server, browser, shop, shot
):
    from tracking.models import Referral

    tenant, _api, code = shop
    context, page = _phone(browser, live_server, "en")
    # The click sets rp_click; green-home then sends the friend on to the shop's own page.
    click = page.request.get(f"{live_server.url}/r/{code}", max_redirects=0)
    assert click.status == 302 and "rp_click=" in click.headers["set-cookie"]
    page.goto(f"{live_server.url}/i/{code}")
    invite = page.locator("[data-testid=invite]")
    variant = invite.get_attribute("data-variant")
    assert variant in ("invite_copy:plain", "invite_copy:warm")
    assert HEADLINES[variant.split(":")[1]] in invite.inner_text()
    shot(page, "invite-variant-390")
    # Submitted empty: every error at once, each under its field.
    page.get_by_role("button", name="Claim my offer").click()
    assert page.locator("#id_email_error").is_visible()
    assert page.locator("#id_consent_error").is_visible()
    assert axe_problems(page) == []
    page.get_by_label("Your name").fill("Dan")
    page.get_by_label("Email").fill("dan@example.net")
    page.locator("input[name=consent]").check()
    page.get_by_role("button", name="Claim my offer").click()
    page.get_by_text("Thank you").first.wait_for()
    for _ in range(50):
        referral = Referral.objects.for_tenant(tenant).filter(referee__email="dan@example.net")
        if referral.exists():
            break
        time.sleep(0.1)
    assert variant in referral.get().variant.split(",")
    context.close()


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_error_pages_and_the_widget_pass_axe(live_server, browser, shop, language):
    tenant, api, _code = shop
    context, page = _phone(browser, live_server, language)
    for path in ("/r/NOSUCHCODE", "/i/NOSUCHCODE", "/no-such-page/"):
        response = page.goto(live_server.url + path)
        assert response.status == 404
        assert axe_problems(page) == [], path
    tenant.portal_frame_origins = [live_server.url]
    tenant.save()
    url = live_server.url + _session_path(api)
    html = (
        f"<!doctype html><html lang=en><meta charset=utf-8><title>Shop</title><h1>Account</h1>"
        f'<script src="{live_server.url}/static/portal/widget.js" data-session-url="{url}" '
        f'data-label="Refer friends" data-colour="{tenant.brand_colour}" data-mode="modal"></script>'
    )
    page.route(
        f"{live_server.url}/shop-account",
        lambda route: route.fulfill(body=html, content_type="text/html; charset=utf-8"),
    )
    page.goto(f"{live_server.url}/shop-account")
    page.get_by_role("button", name="Refer friends").click()
    page.frame_locator("iframe[title='Refer friends']").locator("h1").wait_for()
    assert axe_problems(page) == []
    context.close()
