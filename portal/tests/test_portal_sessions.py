import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import time_machine
from django.core import mail
from django.test import Client

from portal import tokens
from referral_platform.core import clock

from .conftest import T0


def _path(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def test_a_portal_session_link_opens_the_portal_as_that_participant(api, shop):
    with time_machine.travel(T0, tick=False):
        response = api.post(
            "/api/v1/portal-sessions",
            {"participant": "alice", "return_url": "https://shop.example.com/account"},
            format="json",
        )
        assert response.status_code == 201
        body = response.json()
        assert set(body) == {"url", "expires_at", "held_out"} and body["held_out"] is False
        assert body["url"].startswith("http://127.0.0.1:8000/portal/?token=")
        assert body["expires_at"] == "2026-04-06T02:15:00Z"
        client = Client()
        opened = client.get(_path(body["url"]))
        # The token leaves the address bar at once.
        assert opened.status_code == 302
        assert opened["Location"] == "/portal/"
        page = client.get("/portal/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Hi Alice" in html
    assert shop[1] in html
    assert 'href="https://shop.example.com/account"' in html
    assert page["Cache-Control"] == "private, no-store"


def test_an_expired_session_link_is_refused_with_a_way_back(api, shop):
    with time_machine.travel(T0, tick=False):
        url = api.post(
            "/api/v1/portal-sessions",
            {"participant": "alice", "return_url": "https://shop.example.com/account"},
            format="json",
        ).json()["url"]
    with time_machine.travel(T0 + timedelta(minutes=16), tick=False):
        response = Client().get(_path(url))
    assert response.status_code == 410
    html = response.content.decode()
    assert "This link has expired" in html
    assert 'href="https://shop.example.com/account"' in html


def test_a_session_link_still_works_just_inside_its_lifetime(api, shop):
    with time_machine.travel(T0, tick=False):
        url = api.post("/api/v1/portal-sessions", {"participant": "alice"}, format="json").json()[
            "url"
        ]
    with time_machine.travel(T0 + timedelta(minutes=14), tick=False):
        assert Client().get(_path(url)).status_code == 302


def test_a_tampered_session_link_is_refused(api, shop):
    url = api.post("/api/v1/portal-sessions", {"participant": "alice"}, format="json").json()["url"]
    token = url.split("token=")[1]
    payload, _, signature = token.rpartition(":")
    forged = payload[:-2] + ("AA" if payload[-2:] != "AA" else "BB") + ":" + signature
    client = Client()
    response = client.get("/portal/", {"token": forged})
    assert response.status_code == 403
    assert "This link does not work" in response.content.decode()
    # And it did not sign anyone in.
    assert client.get("/portal/").status_code == 302


def test_a_magic_link_token_cannot_be_used_as_a_session_link(shop):
    _program, _code, alice = shop
    token, _ = tokens.token_make(
        tenant_id=alice.tenant_id, participant_id=alice.pk, purpose=tokens.MAGIC_LINK
    )
    assert Client().get("/portal/", {"token": token}).status_code == 403


def test_another_tenants_participant_cannot_get_a_session(api, other_api, shop):
    response = other_api.post("/api/v1/portal-sessions", {"participant": "alice"}, format="json")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_a_token_naming_a_participant_in_another_tenant_is_a_404(shop, other_tenant):
    _program, _code, alice = shop
    token, _ = tokens.token_make(
        tenant_id=other_tenant.pk, participant_id=alice.pk, purpose=tokens.SESSION
    )
    assert Client().get("/portal/", {"token": token}).status_code == 404


def test_the_session_api_validates_its_input(api, shop):
    response = api.post(
        "/api/v1/portal-sessions", {"return_url": "javascript:alert(1)"}, format="json"
    )
    assert response.status_code == 422
    assert set(response.json()["error"]["fields"]) == {"participant", "return_url"}
    assert (
        api.post("/api/v1/portal-sessions", {"participant": "nobody"}, format="json").status_code
        == 404
    )


def test_the_session_api_needs_an_api_key(shop):
    from rest_framework.test import APIClient

    response = APIClient().post("/api/v1/portal-sessions", {"participant": "alice"}, format="json")
    assert response.status_code == 401


def test_without_a_session_the_portal_sends_you_to_the_sign_in_page(db):
    response = Client().get("/portal/")
    assert response.status_code == 302
    assert response["Location"] == "/portal/login/"


def test_the_magic_link_form_answers_the_same_for_known_and_unknown_addresses(
    shop, django_capture_on_commit_callbacks
):
    client = Client()
    with django_capture_on_commit_callbacks(execute=True):
        known = client.post("/portal/login/", {"email": "ALICE@example.test"})
        unknown = client.post("/portal/login/", {"email": "nobody@example.test"})
    assert known.status_code == unknown.status_code == 200
    # The language switch's CSRF token is masked afresh on every render: it tells nothing.
    strip = lambda r: re.sub(r'name="csrfmiddlewaretoken" value="\w+"', "", r.content.decode())  # noqa: E731
    assert strip(known) == strip(unknown)
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["alice@example.test"]
    assert mail.outbox[0].subject == "Your referrals at Acme"


def test_the_magic_link_form_answers_while_the_broker_is_down(
    shop, monkeypatch, django_capture_on_commit_callbacks
):
    from kombu.exceptions import OperationalError

    from portal.tasks import portal_magic_link_send_task

    def broker_down(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(portal_magic_link_send_task, "delay", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        response = Client().post("/portal/login/", {"email": "alice@example.test"})
    assert response.status_code == 200
    assert mail.outbox == []


def test_a_mailed_sign_in_link_opens_the_portal_once(shop, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        Client().post("/portal/login/", {"email": "alice@example.test"})
    link = next(line for line in mail.outbox[0].body.splitlines() if "/portal/login/" in line)
    path = urlsplit(link.strip()).path
    client = Client()
    first = client.get(path)
    assert first.status_code == 302 and first["Location"] == "/portal/"
    assert "Hi Alice" in client.get("/portal/").content.decode()
    assert Client().get(path).status_code == 403


def test_an_expired_mailed_link_is_refused(shop, django_capture_on_commit_callbacks):
    with time_machine.travel(T0, tick=False), django_capture_on_commit_callbacks(execute=True):
        Client().post("/portal/login/", {"email": "alice@example.test"})
    link = next(line for line in mail.outbox[0].body.splitlines() if "/portal/login/" in line)
    with time_machine.travel(T0 + timedelta(minutes=31), tick=False):
        response = Client().get(urlsplit(link.strip()).path)
    assert response.status_code == 410


def test_the_magic_link_form_is_rate_limited_per_ip(db):
    client = Client()
    codes = [
        client.post("/portal/login/", {"email": f"x{i}@example.test"}).status_code
        for i in range(11)
    ]
    assert codes[:10] == [200] * 10
    assert codes[10] == 429


def test_one_address_gets_at_most_three_links_an_hour(shop, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        for i in range(5):
            Client(REMOTE_ADDR=f"198.51.100.{i}").post(
                "/portal/login/", {"email": "alice@example.test"}
            )
    assert len(mail.outbox) == 3


@pytest.mark.parametrize("origins", [["https://shop.example.com"]])
def test_the_portal_may_be_framed_by_the_tenants_own_origins_only(api, shop, tenant, origins):
    from .conftest import portal_client

    tenant.portal_frame_origins = [*origins, "https://evil.example; script-src *"]
    tenant.save()
    client = portal_client(api, "alice")
    page = client.get("/portal/")
    csp = page["Content-Security-Policy"]
    assert "frame-ancestors 'self' https://shop.example.com;" in csp + ";"
    assert "evil" not in csp
    assert "X-Frame-Options" not in page
    # The rest of the product still refuses to be framed.
    assert Client().get("/accounts/login/")["X-Frame-Options"] == "DENY"


def test_without_frame_origins_the_portal_is_not_frameable_elsewhere(api, shop):
    from .conftest import portal_client

    page = portal_client(api, "alice").get("/portal/")
    assert "frame-ancestors 'self'" in page["Content-Security-Policy"]
    assert page["X-Frame-Options"] == "DENY"


def test_expires_at_is_fifteen_minutes_after_now(shop):
    _program, _code, alice = shop
    _token, expires = tokens.token_make(
        tenant_id=alice.tenant_id, participant_id=alice.pk, purpose=tokens.SESSION
    )
    assert timedelta(minutes=14, seconds=59) < expires - clock.now() <= timedelta(minutes=15)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("post", "/portal/share/"),
        ("post", "/portal/message/"),
        ("get", "/portal/rewards/1/choose/"),
        ("post", "/portal/rewards/1/donate/"),
        ("post", "/portal/dispute/"),
        ("post", "/portal/privacy/tracking/"),
        ("get", "/portal/privacy/export.json"),
        ("post", "/portal/privacy/delete/"),
    ],
)
def test_every_portal_action_needs_a_portal_session(db, method, path):
    response = getattr(Client(), method)(path)
    assert response.status_code == 302
    assert response["Location"] == "/portal/login/"


def test_a_mailed_sign_in_link_opens_the_portal_once_while_redis_is_down(shop, settings):
    from portal.services import magic_link_build
    from referral_platform.core import cache as resilient

    _program, _code, alice = shop
    link = magic_link_build(tenant_id=alice.tenant_id, participant_id=alice.pk)
    # A Redis nobody listens on: the cache degrades and answers every `add` as new.
    settings.CACHES = {
        "default": {
            "BACKEND": "referral_platform.core.cache.ResilientRedisCache",
            "LOCATION": "redis://127.0.0.1:9/0",
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }
    from django.core.cache import cache

    assert cache.add("probe", 1) and cache.add("probe", 1)  # the cache remembers nothing
    assert resilient.degraded["add"] >= 2
    path = urlsplit(link).path
    first = Client().get(path)
    assert first.status_code == 302 and first["Location"] == "/portal/"
    again = Client().get(path)
    assert again.status_code == 403
