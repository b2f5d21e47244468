"""The customer's language: chosen with the switch (and remembered), else the participant's,
else the browser's, else the tenant's default; the invite form answers in it."""

from __future__ import annotations

import re

from django.test import Client

from tracking.models import Event, Participant

from .conftest import portal_client


def _errors(html: str) -> dict[str, str]:
    return dict(re.findall(r'<p class="error" id="id_(\w+)_error">([^<]*)</p>', html))


def test_every_invite_form_error_shows_on_the_first_submit_next_to_its_field(shop, tenant):
    _program, code, _alice = shop
    response = Client().post(
        f"/i/{code}", {"email": "not-an-address", "phone": "12", "name": "Dan"}
    )
    assert response.status_code == 422
    errors = _errors(response.content.decode())
    assert errors == {
        "email": "Enter a valid email address. ",
        "phone": "Enter a valid phone number, with its country code. ",
        "consent": "Please accept to continue. ",
    }
    assert 'aria-describedby="id_email_error"' in response.content.decode()
    assert Event.objects.for_tenant(tenant).count() == 0


def test_the_invite_form_answers_in_the_pages_language(shop):
    _program, code, _alice = shop
    response = Client().post(f"/i/{code}", {"name": "Dan"}, HTTP_ACCEPT_LANGUAGE="zh-CN")
    assert response.status_code == 422
    errors = _errors(response.content.decode())
    assert set(errors) == {"email", "consent"}
    assert errors["email"] == "请提供邮箱地址或手机号。 "


def test_the_invite_page_falls_back_to_the_tenants_language(shop, tenant):
    _program, code, _alice = shop
    tenant.default_locale = "zh-hans"
    tenant.save()
    # A browser that asks for a language we do not have: the tenant's default.
    html = Client().get(f"/i/{code}", HTTP_ACCEPT_LANGUAGE="fr-FR").content.decode()
    assert '<html lang="zh-hans">' in html
    # A browser that asks for English gets English.
    html = Client().get(f"/i/{code}", HTTP_ACCEPT_LANGUAGE="en-GB,fr;q=0.5").content.decode()
    assert '<html lang="en">' in html


def test_the_invite_pages_language_switch_is_remembered(shop):
    _program, code, _alice = shop
    browser = Client(HTTP_ACCEPT_LANGUAGE="en")
    page = browser.get(f"/i/{code}").content.decode()
    assert 'data-testid="language-switch"' in page and 'action="/i18n/setlang/"' in page
    switched = browser.post("/i18n/setlang/", {"language": "zh-hans", "next": f"/i/{code}"})
    assert switched.status_code == 302 and switched["Location"] == f"/i/{code}"
    again = browser.get(f"/i/{code}").content.decode()
    assert '<html lang="zh-hans">' in again and "领取我的优惠" in again


def test_the_portals_switch_keeps_the_choice_on_the_participant(api, shop, tenant):
    client = portal_client(api, "alice")
    assert '<html lang="en">' in client.get("/portal/").content.decode()
    moved = client.post("/portal/language/", {"language": "zh-hans", "next": "/portal/"})
    assert moved.status_code == 302 and moved["Location"] == "/portal/"
    alice = Participant.objects.for_tenant(tenant).get(external_id="alice")
    assert alice.locale == "zh-hans"
    assert '<html lang="zh-hans">' in client.get("/portal/").content.decode()
    # Another device, no cookie: the participant's saved language.
    other = portal_client(api, "alice")
    other.cookies.pop("django_language", None)
    assert '<html lang="zh-hans">' in other.get("/portal/").content.decode()
    # An unknown language is refused; an outside `next` is not followed.
    assert client.post("/portal/language/", {"language": "xx"}).status_code == 400
    away = client.post("/portal/language/", {"language": "en", "next": "https://evil.test/"})
    assert away["Location"] == "/portal/"


def test_with_no_saved_language_the_portal_follows_the_browser(api, shop, tenant):
    tenant.default_locale = "zh-hans"
    tenant.save()
    Participant.objects.for_tenant(tenant).filter(external_id="alice").update(locale="")
    client = portal_client(api, "alice")
    html = client.get("/portal/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    assert '<html lang="en">' in html
    html = client.get("/portal/", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert '<html lang="zh-hans">' in html


def test_the_poster_is_drawn_in_the_language_the_portal_speaks(api, shop, tenant):
    from django.core.cache import cache

    _program, code, _alice = shop
    Participant.objects.for_tenant(tenant).filter(external_id="alice").update(locale="zh-hans")
    page = portal_client(api, "alice").get("/portal/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert f'href="/qr/{code}/poster.png?lang=zh-hans"' in page
    chinese = Client().get(f"/qr/{code}/poster.png?lang=zh-hans", HTTP_ACCEPT_LANGUAGE="en")
    english = Client().get(f"/qr/{code}/poster.png?lang=en", HTTP_ACCEPT_LANGUAGE="zh-CN")
    assert chinese.status_code == english.status_code == 200
    assert chinese.content != english.content
    cache.clear()
    # Drawn afresh, the Chinese poster is the one a Chinese browser gets.
    assert Client().get(f"/qr/{code}/poster.png", HTTP_ACCEPT_LANGUAGE="zh-CN").content == (
        chinese.content
    )
