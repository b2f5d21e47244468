"""The redirect served by the production WSGI entry point, through its lean handler."""

from __future__ import annotations

import pytest
from django.test.client import RequestFactory

from referral_platform.core.testing import keep_test_connection
from tracking.models import Click

pytestmark = pytest.mark.django_db


def wsgi_get(path: str, **headers) -> tuple[str, dict[str, list[str]], bytes]:
    from referral_platform.wsgi import application

    environ = RequestFactory().get(path, **headers).environ
    answer = {}

    def start_response(status, response_headers, exc_info=None):
        answer["status"] = status
        answer["headers"] = {}
        for name, value in response_headers:
            answer["headers"].setdefault(name.lower(), []).append(value)

    with keep_test_connection():
        body = b"".join(application(environ, start_response))
    return answer["status"], answer["headers"], body


def test_the_redirect_through_wsgi_records_its_click_and_sets_only_the_click_cookie(alice_code):
    status, headers, _ = wsgi_get(f"/r/{alice_code.code}?s=wechat", HTTP_USER_AGENT="Mozilla/5.0")

    assert status == "302 Found"
    assert headers["location"] == [f"/i/{alice_code.code}"]
    cookies = [c.strip() for c in headers["set-cookie"]]
    assert len(cookies) == 1 and cookies[0].startswith("rp_click=")
    assert "x-request-id" in headers
    assert "x-content-type-options" in headers  # SecurityMiddleware still runs
    # The page stack does not: no CSP, frame options, session or CSRF cookie, locale Vary.
    assert "content-security-policy" not in headers
    assert "x-frame-options" not in headers
    assert "vary" not in headers
    click = Click.unscoped.get()
    assert (click.code, click.source) == (alice_code.code, "wechat")
    assert cookies[0].split(";")[0] == f"rp_click={click.id}"


def test_an_unknown_code_through_wsgi_is_a_404_page_in_the_visitors_language(db):
    status, _, body = wsgi_get("/r/NOPE123", HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9")
    assert status.startswith("404")
    assert "找不到这个邀请" in body.decode()

    status, _, body = wsgi_get("/r/NOPE123", HTTP_ACCEPT_LANGUAGE="en")
    assert status.startswith("404")
    assert "We could not find this invitation" in body.decode()


def test_every_other_path_goes_through_the_full_stack(alice_code):
    status, headers, body = wsgi_get(f"/i/{alice_code.code}")
    assert status == "200 OK"
    assert "content-security-policy" in headers
    assert "x-frame-options" in headers
    assert b"Alice" in body
