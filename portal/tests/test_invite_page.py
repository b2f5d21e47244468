from datetime import timedelta

import time_machine
from django.test import Client

from programs.services import program_update
from tracking.models import Enrollment
from tracking.services import code_rotate

from .conftest import T0, portal_client, refer, tick


def _invite(code: str, **headers):
    return Client(**headers).get(f"/i/{code}")


def test_the_note_set_in_the_portal_appears_on_the_invite_page(api, shop):
    _program, code, alice = shop
    enrollment = Enrollment.objects.for_tenant(alice.tenant_id).get(participant=alice)
    portal_client(api, "alice").post(
        "/portal/message/", {"enrollment": enrollment.pk, "message": "These towels changed my life"}
    )
    html = _invite(code).content.decode()
    assert "Alice invites you" in html
    assert "<blockquote>These towels changed my life</blockquote>" in html
    assert "<figcaption>— Alice</figcaption>" in html


def test_the_invite_page_says_how_long_the_offer_lasts(shop):
    html = _invite(shop[1]).content.decode()
    assert "¥20 off your first order over ¥99, plus free shipping" in html
    assert "Your welcome offer is valid for 7 days after you sign up." in html


def test_the_invite_page_in_chinese(shop):
    html = _invite(shop[1], HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9").content.decode()
    assert '<html lang="zh-hans">' in html
    assert "注册后 7 天内可使用你的新人优惠。" in html


def test_social_proof_appears_only_from_three_friends_in_30_days(api, shop):
    _program, code, _alice = shop
    with time_machine.travel(T0, tick=False):
        for friend in ("f1", "f2"):
            refer(api, code, friend, T0, email=f"{friend}@example.net", buy=False)
        tick()
        assert 'data-testid="social-proof"' not in _invite(code).content.decode()
        refer(api, code, "f3", T0, email="f3@example.net", buy=False)
        tick()
        assert (
            "3 friends joined through invitations in the last 30 days."
            in _invite(code).content.decode()
        )
    with time_machine.travel(T0 + timedelta(days=31), tick=False):
        assert 'data-testid="social-proof"' not in _invite(code).content.decode()


def test_a_rotated_code_shows_neither_the_referrer_nor_their_note(api, shop):
    from tracking.models import ReferralCode

    _program, code, alice = shop
    enrollment = Enrollment.objects.for_tenant(alice.tenant_id).get(participant=alice)
    enrollment.personal_message = "Private words"
    enrollment.save()
    code_rotate(code=ReferralCode.objects.for_tenant(alice.tenant_id).get(code=code))
    html = _invite(code).content.decode()
    assert "Private words" not in html and "Alice" not in html


def test_an_erased_referrer_leaves_every_public_page_at_once(
    api, shop, django_capture_on_commit_callbacks
):
    from django.core.cache import cache

    from tracking import services as tracking

    _program, code, _alice = shop
    assert "Alice invites you" in _invite(code).content.decode()
    poster = Client().get(f"/qr/{code}/poster.png")
    assert poster["Cache-Control"] == "public, no-cache"
    # Another web process still holds the entry it cached before the erasure.
    stale = tracking.code_resolve(code)
    assert stale["referrer_name"] == "Alice"

    client = portal_client(api, "alice")
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post("/portal/privacy/delete/", {"confirm": "yes"}).status_code == 200

    assert cache.get(f"tracking:code:v1:{code}") is None
    assert tracking.code_resolve(code)["referrer_name"] == ""
    # The poster is drawn again without her name; a browser revalidating gets the new one.
    again = Client().get(f"/qr/{code}/poster.png", HTTP_IF_NONE_MATCH=poster["ETag"])
    assert again.status_code == 200 and again["ETag"] != poster["ETag"]
    html = _invite(code).content.decode()
    assert "Alice" not in html and "You are invited" in html
    # Even from a process whose cached entry still names her.
    cache.set(f"tracking:code:v1:{code}", stale, 300)
    tracking._local.clear()
    html = _invite(code).content.decode()
    assert "Alice" not in html and "You are invited" in html


def test_text_on_the_brand_colour_stays_readable(api, shop, tenant):
    _program, code, _alice = shop
    assert "--brand-text: #ffffff;" in _invite(code).content.decode()
    tenant.brand_colour = "#2fb344"  # the green shop: white text would read at 2.74:1
    tenant.save()
    assert "--brand-text: #000000;" in _invite(code).content.decode()
    assert "--brand-text: #000000;" in portal_client(api, "alice").get("/portal/").content.decode()


def test_the_offer_is_the_programs_copy_in_the_pages_language(shop):
    english = "¥20 off your first order over ¥99, plus free shipping"
    chinese = "首单满 ¥99 减 ¥20，再送免运费券"
    html = _invite(shop[1], HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9").content.decode()
    assert f'<p class="offer-headline">{chinese}</p>' in html
    assert "两张券均 7 天内有效。" in html
    assert english not in html

    html = _invite(shop[1], HTTP_ACCEPT_LANGUAGE="en-GB,en;q=0.9").content.decode()
    assert f'<p class="offer-headline">{english}</p>' in html
    assert "Both coupons are valid for 7 days." in html
    assert chinese not in html

    # The switch's choice (its cookie) wins over the browser's language.
    browser = Client(HTTP_ACCEPT_LANGUAGE="en-GB,en;q=0.9")
    browser.cookies["django_language"] = "zh-hans"
    assert chinese in browser.get(f"/i/{shop[1]}").content.decode()


def test_a_text_missing_in_the_readers_language_is_shown_in_the_other(shop):
    program = shop[0]
    spec = dict(program.spec)
    spec["offer"] = {"headline": {"en": "Only in English"}, "body": "One text for both"}
    program_update(program=program, spec=spec, actor=None)
    html = _invite(shop[1], HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9").content.decode()
    assert '<p class="offer-headline">Only in English</p>' in html
    assert "One text for both" in html
