"""Copy experiments reach people (SEMANTICS §10): the invite page shows an anonymous visitor
the variant of the click id the redirect set, and the referral created from that click keeps
it; the portal's share texts follow the referrer's own variant."""

from __future__ import annotations

from urllib.parse import quote

from django.test import Client

from programs.engine import assign_variant
from programs.services import program_create
from programs.templates_data.green_home import green_home_spec
from tracking.models import Enrollment, Participant, Referral
from tracking.public import COOKIE

from .conftest import enrol_alice, portal_client

PHONE_UA = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148 Safari/604.1"
HEADLINES = {"plain": "¥20 off your first order over ¥99, plus free shipping",
             "warm": "A gift from a friend: ¥20 off and free shipping"}  # fmt: skip


def _spec() -> dict:
    spec = green_home_spec(2026)
    spec["status"] = "active"
    spec["experiments"] = [
        {"key": "invite_copy", "side": "referee", "variants": [
            {"key": "plain", "weight": 50, "label": "Plain"},
            {"key": "warm", "weight": 50, "label": "Warm",
             "overrides": {"offer": {"headline": HEADLINES["warm"]}}},
        ]},
        {"key": "share_copy", "side": "referrer", "variants": [
            {"key": "same", "weight": 0, "label": "Same"},
            {"key": "short", "weight": 100, "label": "Short",
             "overrides": {"share_copy": {"whatsapp": "Try this: ¥20 off!"}}},
        ]},
    ]  # fmt: skip
    return spec


def _enrol(api, tenant):
    program_create(tenant=tenant, spec=_spec(), actor=None)
    return enrol_alice(api)


def _visit(code: str) -> tuple[Client, str, str]:
    browser = Client(HTTP_USER_AGENT=PHONE_UA)
    assert browser.get(f"/r/{code}").status_code == 302
    click_id = browser.cookies[COOKIE].value.split(".")[0]
    return browser, click_id, browser.get(f"/i/{code}").content.decode()


def test_each_visitor_sees_the_variant_of_their_click_and_their_referral_keeps_it(
    api, tenant, django_capture_on_commit_callbacks
):
    code = _enrol(api, tenant)
    seen: dict[str, tuple[Client, str]] = {}
    for _ in range(40):
        browser, click_id, page = _visit(code)
        variant = assign_variant(_spec(), "invite_copy", click_id)
        assert f'data-variant="invite_copy:{variant}"' in page
        assert HEADLINES[variant] in page
        assert HEADLINES["warm" if variant == "plain" else "plain"] not in page
        # The same visitor coming back sees the same copy.
        assert HEADLINES[variant] in browser.get(f"/i/{code}").content.decode()
        seen.setdefault(variant, (browser, click_id))
        if len(seen) == 2:
            break
    assert set(seen) == {"plain", "warm"}

    for n, (variant, (browser, click_id)) in enumerate(sorted(seen.items())):
        with django_capture_on_commit_callbacks(execute=True):
            done = browser.post(
                f"/i/{code}", {"name": "Dan", "email": f"dan{n}@example.net", "consent": "on"}
            )
        assert done.status_code == 200, done.content.decode()[:500]
        lead = Participant.objects.for_tenant(tenant).get(email=f"dan{n}@example.net")
        referral = Referral.objects.for_tenant(tenant).get(referee=lead)
        assert referral.click_id == click_id
        assert f"invite_copy:{variant}" in referral.variant.split(",")


def test_the_portals_share_texts_follow_the_referrers_variant(api, tenant):
    _enrol(api, tenant)
    enrollment = Enrollment.objects.for_tenant(tenant).get()
    assert enrollment.variant == "share_copy:short"
    html = portal_client(api, "alice").get("/portal/").content.decode()
    assert "Try%20this%3A%20%C2%A520%20off%21" in html  # the WhatsApp link's text


def test_a_variants_copy_is_read_in_the_visitors_language(api, tenant):
    """A variant's overrides per language merge over the program's: the Chinese visitor of
    the warm variant reads its Chinese headline, the English one its English headline."""
    spec = _spec()
    spec["experiments"][0]["variants"][1]["overrides"] = {
        "offer": {
            "headline": {"en": HEADLINES["warm"], "zh-hans": "好友送你一份礼物：立减 ¥20，免运费"}
        }
    }
    program_create(tenant=tenant, spec=spec, actor=None)
    code = enrol_alice(api)
    seen = set()
    for _ in range(40):
        browser = Client(HTTP_USER_AGENT=PHONE_UA, HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9")
        browser.get(f"/r/{code}")
        click_id = browser.cookies[COOKIE].value.split(".")[0]
        variant = assign_variant(spec, "invite_copy", click_id)
        page = browser.get(f"/i/{code}").content.decode()
        expected = {
            "plain": "首单满 ¥99 减 ¥20，再送免运费券",
            "warm": "好友送你一份礼物：立减 ¥20，免运费",
        }
        assert f'<p class="offer-headline">{expected[variant]}</p>' in page
        browser.cookies["django_language"] = "en"
        english = browser.get(f"/i/{code}").content.decode()
        assert f'<p class="offer-headline">{HEADLINES[variant]}</p>' in english
        seen.add(variant)
        if len(seen) == 2:
            break
    assert seen == {"plain", "warm"}


def test_the_portals_share_texts_are_in_the_referrers_language(api, tenant):
    program_create(tenant=tenant, spec=green_home_spec(2026), actor=None)
    enrol_alice(api)
    alice = Participant.objects.for_tenant(tenant).get(external_id="alice")
    alice.locale = "zh-hans"
    alice.save(update_fields=["locale"])
    html = portal_client(api, "alice").get("/portal/").content.decode()
    # The WhatsApp link's text: the program's Chinese share text.
    assert quote("通过我的链接，首单立减 ¥20。") in html
    assert quote("¥20 off your first green-home order with my link.") not in html
