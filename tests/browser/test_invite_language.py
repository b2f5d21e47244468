"""The friend's invite page on a 390 × 844 phone: the language switch changes the program's
own offer text (its per-language copy), not only the page's words, and the choice is kept.
The program's FAQ and terms read in either language there and on the referrer's portal, each
page with its reader's questions: the friend's and everyone's on the invite page, the
referrer's and everyone's on the portal."""

from __future__ import annotations

import pytest

from tests.browser.test_portal_customer import PHONE_UA, _alice_shop, axe_problems

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
ENGLISH = "¥20 off your first order over ¥99, plus free shipping"
CHINESE = "首单满 ¥99 减 ¥20，再送免运费券"


@pytest.fixture
def phone390(browser, live_server):
    context = browser.new_context(viewport=PHONE, locale="en-US", user_agent=PHONE_UA)
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.console_problems = []
    page.on("pageerror", lambda exc: page.console_problems.append(str(exc)))
    yield page
    context.close()


def test_switching_language_on_the_invite_page_changes_the_offer(
    live_server, phone390, transactional_db, shot
):
    _tenant, _api, code = _alice_shop()
    page = phone390
    page.goto(f"{live_server.url}/i/{code}")
    headline = page.locator(".offer-headline")
    assert headline.inner_text() == ENGLISH
    assert "Both coupons are valid for 7 days." in page.locator("main").inner_text()

    page.locator("[data-testid=language-switch] button[value=zh-hans]").click()
    page.wait_for_url(f"**/i/{code}")
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    assert headline.inner_text() == CHINESE
    assert "两张券均 7 天内有效。" in page.locator("main").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert axe_problems(page) == []
    shot(page, "invite-zh-390")

    # Remembered: the page opened again is still in Chinese.
    page.goto(f"{live_server.url}/i/{code}")
    assert headline.inner_text() == CHINESE

    page.locator("[data-testid=language-switch] button[value=en]").click()
    page.wait_for_url(f"**/i/{code}")
    assert headline.inner_text() == ENGLISH
    assert page.console_problems == []


def test_the_widgets_button_speaks_the_customers_language(live_server, browser, transactional_db):
    """The snippet carries the words per language: the customer's language (data-lang) wins,
    else the browser's, else the workspace's default."""
    snippet = (
        f'<script src="{live_server.url}/static/portal/widget.js" data-session-url="/x" '
        'data-label="Refer friends, get rewards" data-default-lang="en" '
        'data-label-en="Refer friends, get rewards" data-label-zh-hans="推荐好友，赢取奖励"{lang}>'
        "</script>"
    )
    for locale, lang_attr, expected in (
        ("en-US", ' data-lang="zh-hans"', "推荐好友，赢取奖励"),
        ("zh-CN", "", "推荐好友，赢取奖励"),
        ("en-US", "", "Refer friends, get rewards"),
        ("fr-FR", "", "Refer friends, get rewards"),
    ):
        context = browser.new_context(viewport=PHONE, locale=locale, user_agent=PHONE_UA)
        page = context.new_page()
        html = (
            "<!doctype html><html lang=en><meta charset=utf-8><title>Shop</title><h1>Shop</h1>"
            + snippet.format(lang=lang_attr)
        )
        # Fulfilled before the next iteration rebinds `html`.
        page.route(
            f"{live_server.url}/shop",
            lambda route: route.fulfill(body=html, content_type="text/html"),  # noqa: B023
        )
        page.goto(f"{live_server.url}/shop")
        assert page.get_by_role("button", name=expected).is_visible(), (locale, lang_attr)
        context.close()


def _read_faq(page, question: str, answer_part: str) -> None:
    """Open the question (a <details>) and check its answer is now visible."""
    entry = page.locator("details[data-testid=faq]", has=page.locator("summary", has_text=question))
    entry.locator("summary").click()
    assert answer_part in entry.inner_text()
    assert entry.get_attribute("open") is not None


def _questions(page) -> list[str]:
    return page.locator("details[data-testid=faq] summary").all_inner_texts()


# The green-home demo's questions (programs/templates_data/green_home.py), in its order:
# the referrer's, then the friend's, then one for everyone.
FOR_REFERRERS = {
    "en": [
        "What does my friend get?",
        "What do I get when a friend orders?",
        "Is there more for several friends in a month?",
        "How does the lottery work?",
        "What if my friend returns the order?",
    ],
    "zh-hans": ["好友能得到什么？", "好友下单后我能得到什么？", "一个月内邀请多位好友有额外奖励吗？", "抽奖怎么进行？", "好友退货了怎么办？"],
}  # fmt: skip
FOR_FRIENDS = {
    "en": ["What do I get?", "How do I use my discount?"],
    "zh-hans": ["我能得到什么？", "怎么使用我的优惠？"],
}
FOR_EVERYONE = {"en": ["Who counts as a new customer?"], "zh-hans": ["谁算新顾客？"]}


def test_the_invite_page_answers_the_programs_questions_in_both_languages(
    live_server, phone390, transactional_db, shot
):
    _tenant, _api, code = _alice_shop()
    page = phone390
    page.goto(f"{live_server.url}/i/{code}")
    # Only the friend's questions and everyone's: none written for the referrer.
    assert _questions(page) == FOR_FRIENDS["en"] + FOR_EVERYONE["en"]
    _read_faq(page, "What do I get?", "free-shipping coupon")
    _read_faq(page, "Who counts as a new customer?", "never ordered from us before")
    page.get_by_test_id("terms-link").click()
    assert page.locator("#terms").is_visible()
    assert "Who can refer" in page.locator("#terms").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert axe_problems(page) == []

    page.locator("[data-testid=language-switch] button[value=zh-hans]").click()
    page.wait_for_url(f"**/i/{code}")
    assert _questions(page) == FOR_FRIENDS["zh-hans"] + FOR_EVERYONE["zh-hans"]
    _read_faq(page, "我能得到什么？", "免运费券")
    _read_faq(page, "怎么使用我的优惠？", "满 ¥99")
    assert "谁可以推荐" in page.locator("#terms").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert axe_problems(page) == []
    shot(page, "invite-faq-zh-390")
    assert page.console_problems == []


def test_the_portal_answers_the_programs_questions_in_both_languages(
    live_server, phone390, transactional_db, shot
):
    from urllib.parse import urlsplit

    _tenant, api, _code = _alice_shop()
    session = api.post("/api/v1/portal-sessions", {"participant": "alice"}, format="json").json()
    parts = urlsplit(session["url"])
    page = phone390
    page.goto(f"{live_server.url}{parts.path}?{parts.query}")
    help_section = page.locator("#help")
    # Only the referrer's questions and everyone's: none written for the friend.
    assert _questions(page) == FOR_REFERRERS["en"] + FOR_EVERYONE["en"]
    _read_faq(page, "What do I get when a friend orders?", "250 green miles")
    _read_faq(page, "Who counts as a new customer?", "within 30 days")
    assert "When do I get my reward?" not in help_section.inner_text()
    assert "Who can refer" in help_section.get_by_test_id("terms").inner_text()
    assert axe_problems(page) == []

    # The switch posts and comes back to the same /portal/ address: wait for that load.
    with page.expect_navigation():
        page.locator("[data-testid=language-switch] button[value=zh-hans]").click()
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    assert _questions(page) == FOR_REFERRERS["zh-hans"] + FOR_EVERYONE["zh-hans"]
    _read_faq(page, "好友下单后我能得到什么？", "250 绿色里程")
    assert "谁可以推荐" in help_section.get_by_test_id("terms").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert axe_problems(page) == []
    shot(page, "portal-faq-zh-390")
    assert page.console_problems == []
