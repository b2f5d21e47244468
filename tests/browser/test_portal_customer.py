"""A customer on a small phone opens "my referrals" from a session link: copies the link,
downloads the poster, picks the coupon over the points, files a dispute. Every page passes
axe-core with no serious or critical violation and loads nothing from another host."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from rest_framework.test import APIClient

from tests.browser.conftest import MOBILE

pytestmark = pytest.mark.browser

AXE = (Path(__file__).parent / "vendor" / "axe.min.js").read_text()
PHONE_UA = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0 Mobile Safari/537.36"
)


def axe_problems(page) -> list[str]:
    """Serious and critical axe-core violations of the page as it is now. Evaluated through
    the DevTools protocol, so the page's CSP (no inline scripts) does not block the check."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE)
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


@pytest.fixture
def phone(browser, live_server):
    context = browser.new_context(viewport=MOBILE, locale="en-US", user_agent=PHONE_UA)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.foreign_requests = []
    page.console_problems = []
    page.on(
        "request",
        lambda r: (
            page.foreign_requests.append(r.url)
            if not r.url.startswith(live_server.url) and not r.url.startswith("data:")
            else None
        ),
    )
    page.on(
        "console",
        lambda msg: page.console_problems.append(msg.text) if msg.type == "error" else None,
    )
    page.on("pageerror", lambda exc: page.console_problems.append(str(exc)))
    page.on(
        "response",
        lambda r: page.console_problems.append(f"{r.status} {r.url}") if r.status >= 400 else None,
    )
    yield page
    context.close()


@pytest.fixture
def alice_shop(transactional_db):
    """Acme's green-home program; Alice's friend Lena bought 8 days ago, so Alice has a
    ¥25-coupon-or-250-points choice waiting."""
    return _alice_shop()


@pytest.fixture
def alice_donor(transactional_db):
    """The same shop matching each success with a ¥5 donation that comes with a certificate;
    the periodic jobs have run, so Lena's kept purchase has paid its donation."""
    from django.core.management import call_command

    shop = _alice_shop(
        charity={
            "key": "trees",
            "amount": 500,
            "description": "A tree planted",
            "certificate": True,
        }
    )
    call_command("tick", stdout=io.StringIO())
    return shop


def _alice_shop(**spec_changes):
    from programs.services import program_create
    from programs.templates_data.green_home import green_home_spec
    from referral_platform.core import clock
    from referral_platform.tenancy.services import api_key_create, tenant_create

    tenant = tenant_create(
        name="Acme",
        slug="acme",
        owner_email="owner@acme.test",
        currency="CNY",
        timezone="Asia/Shanghai",
        owner_password="pw-owner-12345",
    )
    spec = green_home_spec(clock.now().year)
    spec["status"] = "active"
    spec.update(spec_changes)
    program_create(tenant=tenant, spec=spec, actor=None)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key_create(tenant=tenant, name='t')[1]}")
    api.post(
        "/api/v1/participants",
        {"external_id": "alice", "name": "Alice", "email": "alice@example.test",
         "attributes": {"orders_count": 2, "phone_verified": True}},
        format="json",
    )  # fmt: skip
    code = api.post(
        "/api/v1/programs/green-home/enrollments", {"participant": "alice"}, format="json"
    ).json()["code"]
    api.post(
        "/api/v1/participants", {"external_id": "lena", "email": "lena@gmail.com"}, format="json"
    )
    when = clock.now() - timedelta(days=9)
    for body in (
        {"event_id": "lena-signup", "type": "signup", "referral": {"code": code}},
        {"event_id": "lena-buy", "type": "purchase", "order_id": "o1",
         "amount": {"amount_minor": 12000, "currency": "CNY"}},
    ):  # fmt: skip
        body.update(occurred_at=when.isoformat(), participant={"external_id": "lena"})
        assert api.post("/api/v1/events", body, format="json").status_code == 202
        when += timedelta(days=1)
    return tenant, api, code


def test_a_customer_uses_the_portal_on_a_phone(live_server, phone, alice_shop, shot):
    from fraud.models import Dispute
    from rewards.models import Reward
    from tracking.models import Event

    tenant, api, code = alice_shop
    reward = Reward.objects.for_tenant(tenant).get(
        participant__external_id="alice", reason="stage:referrer_choice"
    )
    assert reward.status == "pending" and reward.chosen_at is None

    session = api.post(
        "/api/v1/portal-sessions",
        {"participant": "alice", "return_url": "https://shop.example.com/account"},
        format="json",
    ).json()
    parts = urlsplit(session["url"])
    phone.goto(f"{live_server.url}{parts.path}?{parts.query}")
    assert phone.url == f"{live_server.url}/portal/"
    assert phone.locator("h1").inner_text() == "Hi Alice"
    assert phone.evaluate("document.documentElement.scrollWidth") <= MOBILE["width"]
    assert axe_problems(phone) == []
    shot(phone, "portal-home-360")

    # One tap copies the link, and the tap counts as a share.
    phone.get_by_role("button", name="Copy link").click()
    phone.get_by_role("button", name="Copied").wait_for()
    assert phone.evaluate("navigator.clipboard.readText()") == f"http://127.0.0.1:8000/r/{code}"

    # The poster downloads as a PNG.
    with phone.expect_download() as download_info:
        phone.get_by_role("link", name="Download poster").click()
    download = download_info.value
    assert download.suggested_filename == f"poster-{code}.png"
    assert Path(download.path()).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    phone.wait_for_function("true")
    channels = set()
    for _ in range(50):
        channels = {
            e.payload["properties"]["channel"]
            for e in Event.objects.for_tenant(tenant).filter(type="share")
        }
        if channels >= {"copy", "poster"}:
            break
        phone.wait_for_timeout(100)
    assert channels == {"copy", "poster"}

    # The coupon over the points, with a confirmation step.
    choices = phone.locator("#choices")
    choices.get_by_label("¥25 off on orders of ¥129 or more").check()
    choices.get_by_role("button", name="Continue").click()
    phone.wait_for_url(re.compile(r".*/choose/\?option=0$"))
    assert (
        "You are choosing ¥25 off on orders of ¥129 or more." in phone.locator("main").inner_text()
    )
    assert axe_problems(phone) == []
    shot(phone, "portal-choice-confirm-360")
    phone.get_by_role("button", name="Confirm").click()
    phone.wait_for_url(f"{live_server.url}/portal/#rewards")
    assert (
        "Done: you chose ¥25 off on orders of ¥129 or more." in phone.locator(".flash").inner_text()
    )
    reward.refresh_from_db()
    assert reward.chosen_at is not None
    assert (reward.kind, reward.amount_minor) == ("coupon", 2500)
    assert [o["chosen"] for o in reward.options] == [True, False]
    assert phone.locator("#choices").count() == 0

    # A dispute about a friend who is not listed.
    phone.get_by_label("What happened?").fill("My colleague Wang signed up with my code on Monday.")
    phone.locator("#help").get_by_role("button", name="Send").click()
    phone.wait_for_url(f"{live_server.url}/portal/#help")
    assert "will answer within 5 business days" in phone.locator(".flash").inner_text()
    dispute = Dispute.objects.for_tenant(tenant).get()
    assert dispute.message == "My colleague Wang signed up with my code on Monday."
    assert phone.locator("[data-testid=dispute]").count() == 1
    assert axe_problems(phone) == []
    shot(phone, "portal-after-dispute-360")

    assert phone.evaluate("document.documentElement.scrollWidth") <= MOBILE["width"]
    assert phone.foreign_requests == []
    assert phone.console_problems == []


def test_the_donor_downloads_her_charity_certificate_from_beside_the_total(
    live_server, phone, alice_donor, shot
):
    from PIL import Image

    from rewards.models import Reward

    tenant, api, _code = alice_donor
    donation = Reward.objects.for_tenant(tenant).get(
        participant__external_id="alice", reason="charity:trees"
    )
    assert donation.status == "fulfilled"
    session = api.post("/api/v1/portal-sessions", {"participant": "alice"}, format="json").json()
    parts = urlsplit(session["url"])
    phone.goto(f"{live_server.url}{parts.path}?{parts.query}")
    total = phone.locator("#balances").get_by_test_id("charity")
    assert total.inner_text() == "¥5"
    assert axe_problems(phone) == []
    shot(phone, "portal-charity-certificate-360")
    with phone.expect_download() as download_info:
        phone.locator("#balances").get_by_role("link", name="Certificate").click()
    download = download_info.value
    assert download.suggested_filename == f"certificate-{donation.pk}.png"
    image = Image.open(download.path())
    assert (image.format, image.size) == ("PNG", (1200, 800))
    assert phone.evaluate("document.documentElement.scrollWidth") <= MOBILE["width"]
    assert phone.foreign_requests == []
    assert phone.console_problems == []


def test_refusal_and_sign_in_pages_are_accessible_on_a_phone(live_server, phone, alice_shop, shot):
    phone.goto(f"{live_server.url}/portal/?token=not-a-token")
    assert "This link does not work" in phone.locator("h1").inner_text()
    assert axe_problems(phone) == []
    phone.goto(f"{live_server.url}/portal/login/")
    phone.get_by_label("Email address").fill("alice@example.test")
    phone.get_by_role("button", name="Email me a sign-in link").click()
    phone.get_by_text("If this address belongs to a customer").wait_for()
    assert axe_problems(phone) == []
    shot(phone, "portal-login-sent-360")
    assert phone.foreign_requests == []


def test_the_widget_opens_the_portal_from_the_tenants_page(live_server, phone, alice_shop, shot):
    """A stand-in for the tenant's page: the widget script with a session URL it was given."""
    tenant, api, _code = alice_shop
    tenant.portal_frame_origins = [live_server.url]
    tenant.save()
    session = api.post("/api/v1/portal-sessions", {"participant": "alice"}, format="json").json()
    parts = urlsplit(session["url"])
    url = f"{live_server.url}{parts.path}?{parts.query}"
    html = (
        "<!doctype html><html lang=en><meta charset=utf-8><title>Shop</title><h1>My account</h1>"
        f'<script src="{live_server.url}/static/portal/widget.js" data-session-url="{url}" '
        'data-label="Refer friends, get ¥25" data-mode="modal"></script>'
    )
    phone.route(
        f"{live_server.url}/shop-account",
        lambda route: route.fulfill(body=html, content_type="text/html; charset=utf-8"),
    )
    phone.goto(f"{live_server.url}/shop-account")
    button = phone.get_by_role("button", name="Refer friends, get ¥25")
    button.click()
    frame = phone.frame_locator("iframe[title='Refer friends, get ¥25']")
    frame.locator("h1").wait_for()
    assert frame.locator("h1").inner_text() == "Hi Alice"
    shot(phone, "portal-widget-modal-360")
    phone.keyboard.press("Escape")
    assert phone.locator("iframe").count() == 0


def _page_of(html: str):
    def fulfil(route):
        route.fulfill(body=html, content_type="text/html; charset=utf-8")

    return fulfil


def test_a_customer_the_program_holds_out_gets_no_widget(live_server, phone, transactional_db):
    """SEMANTICS §10: the holdout gets no widget. The tenant's page passes the portal
    session's `held_out` on, or its session endpoint answers it."""
    import json

    from programs.holdout import seed_splitting
    from programs.models import Program
    from programs.services import program_update
    from tracking.models import Participant

    tenant, api, _code = _alice_shop()
    alice, lena = (
        Participant.objects.for_tenant(tenant).get(external_id=n) for n in ("alice", "lena")
    )
    seed = seed_splitting(5000, held=[alice.pk], treated=[lena.pk])
    program = Program.objects.for_tenant(tenant).get(slug="green-home")
    program_update(
        program=program, spec={**program.spec, "holdout": {"percent": 50, "seed": seed}}, actor=None
    )

    def session_of(who):
        return api.post("/api/v1/portal-sessions", {"participant": who}, format="json").json()

    shown = {}
    for who in ("alice", "lena"):
        session = session_of(who)
        html = (
            "<!doctype html><html lang=en><meta charset=utf-8><title>Shop</title><main><h1>Shop"
            f'</h1><script src="/static/portal/widget.js" data-session-url="{session["url"]}" '
            f'data-held-out="{session["held_out"]}" data-label="Refer friends"></script></main>'
        )
        phone.route(f"{live_server.url}/account-{who}", _page_of(html))
        phone.goto(f"{live_server.url}/account-{who}")
        phone.locator("h1").wait_for()
        shown[who] = (
            session["held_out"],
            phone.get_by_role("button", name="Refer friends").count(),
        )
    assert shown == {"alice": (True, 0), "lena": (False, 1)}

    # A session endpoint that answers held_out: the button goes at the first press, no tab.
    phone.route(
        f"{live_server.url}/me/portal",
        lambda route: route.fulfill(
            body=json.dumps(session_of("alice")), content_type="application/json"
        ),
    )
    html = (
        "<!doctype html><html lang=en><meta charset=utf-8><title>Shop</title><main><h1>Shop</h1>"
        '<script src="/static/portal/widget.js" data-session-endpoint="/me/portal" '
        'data-label="Refer friends"></script></main>'
    )
    phone.route(
        f"{live_server.url}/account-endpoint",
        lambda route: route.fulfill(body=html, content_type="text/html"),
    )
    phone.goto(f"{live_server.url}/account-endpoint")
    phone.get_by_role("button", name="Refer friends").click()
    phone.locator("[data-referral-widget]").wait_for(state="detached")
    # The tab opened inside the press (for pop-up blockers) is closed once the endpoint says
    # held out; the browser reports the close a moment later.
    for _ in range(100):
        if len(phone.context.pages) == 1:
            break
        phone.wait_for_timeout(50)
    assert len(phone.context.pages) == 1


def test_the_invite_page_is_light_accessible_and_shows_the_personal_note(
    live_server, phone, alice_shop, shot
):
    from tracking.models import Enrollment

    tenant, _api, code = alice_shop
    Enrollment.objects.for_tenant(tenant).filter(participant__external_id="alice").update(
        personal_message="I use their bamboo towels every day — try them!"
    )
    # green-home sends link clicks to the shop's own landing page; the invite page is the
    # one its posters and the "leave your details" path use.
    phone.goto(f"{live_server.url}/i/{code}")
    assert phone.locator("[data-testid=invite-title]").inner_text() == "Alice invites you"
    note = phone.locator("[data-testid=personal-message]").inner_text()
    assert "I use their bamboo towels every day — try them!" in note
    assert "Your welcome offer is valid for 7 days" in phone.locator("main").inner_text()
    assert phone.locator("#id_code").input_value() == code
    assert phone.evaluate("document.documentElement.scrollWidth") <= MOBILE["width"]
    assert axe_problems(phone) == []
    shot(phone, "portal-invite-360")
    # Everything the page loads is small: no framework stylesheet, no large script.
    sizes = phone.evaluate(
        "performance.getEntriesByType('resource').map(e => [e.name, e.decodedBodySize])"
    )
    assert all(size < 30_000 for _name, size in sizes), sizes
    assert phone.foreign_requests == []


def test_the_widget_fetches_a_fresh_session_and_opens_the_portal_in_a_new_tab(
    live_server, phone, alice_shop
):
    import json

    _tenant, api, _code = alice_shop
    asked = []

    def fresh_session(route):
        # The tenant's backend: mint a session link for the signed-in customer on demand.
        asked.append(route.request.url)
        session = api.post(
            "/api/v1/portal-sessions", {"participant": "alice"}, format="json"
        ).json()
        parts = urlsplit(session["url"])
        body = json.dumps({"url": f"{live_server.url}{parts.path}?{parts.query}"})
        route.fulfill(body=body, content_type="application/json")

    html = (
        "<!doctype html><html lang=en><meta charset=utf-8><title>Shop</title><main><h1>Shop</h1>"
        '<p>Tell a friend: <script src="/static/portal/widget.js" data-session-endpoint="/me/portal" '
        'data-label="Refer friends" data-position="inline"></script></p></main>'
    )
    phone.route(
        f"{live_server.url}/shop-page",
        lambda route: route.fulfill(body=html, content_type="text/html; charset=utf-8"),
    )
    phone.route(f"{live_server.url}/me/portal", fresh_session)
    phone.goto(f"{live_server.url}/shop-page")
    assert asked == []  # nothing is requested before the customer asks
    with phone.context.expect_page() as tab_info:
        phone.get_by_role("button", name="Refer friends").click()
    tab = tab_info.value
    tab.wait_for_url(f"{live_server.url}/portal/")
    assert tab.locator("h1").inner_text() == "Hi Alice"
    assert asked == [f"{live_server.url}/me/portal"]
    assert tab.evaluate("window.opener") is None


def test_the_portal_in_chinese_on_a_phone(live_server, phone, alice_shop, shot):
    from tracking.models import Participant

    tenant, api, _code = alice_shop
    Participant.objects.for_tenant(tenant).filter(external_id="alice").update(locale="zh-CN")
    session = api.post("/api/v1/portal-sessions", {"participant": "alice"}, format="json").json()
    parts = urlsplit(session["url"])
    phone.goto(f"{live_server.url}{parts.path}?{parts.query}")
    assert phone.locator("html").get_attribute("lang") == "zh-hans"
    assert phone.locator("h1").inner_text() == "Alice，你好"
    assert phone.get_by_role("button", name="复制链接").is_visible()
    assert phone.locator("#rewards h2").inner_text() == "你的奖励"
    assert phone.evaluate("document.documentElement.scrollWidth") <= MOBILE["width"]
    assert axe_problems(phone) == []
    shot(phone, "portal-home-zh-360")
    assert phone.foreign_requests == []
