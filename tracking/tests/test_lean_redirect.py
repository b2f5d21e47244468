"""The redirect served by the production WSGI entry point, through its lean handler."""

from __future__ import annotations

import re
import time

import pytest
from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.test.client import RequestFactory

from referral_platform.core.testing import keep_test_connection
from tracking import clickbuffer, services
from tracking.models import Click
from tracking.services import codes

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    services._local.clear()


def wsgi_get(path: str, method: str = "get", **headers) -> tuple[str, dict[str, list[str]], bytes]:
    from referral_platform.wsgi import application

    environ = getattr(RequestFactory(), method)(path, **headers).environ
    answer = {}

    def start_response(status, response_headers, exc_info=None):
        answer["status"] = status
        answer["headers"] = {}
        for name, value in response_headers:
            answer["headers"].setdefault(name.lower(), []).append(value)

    with keep_test_connection():
        answer_body = application(environ, start_response)
        body = b"".join(answer_body)
        if hasattr(answer_body, "close"):  # as a WSGI server does
            answer_body.close()
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


@pytest.fixture
def buffered(settings, monkeypatch):
    """The click buffer on; Redis is never reached during a request (the shipper thread's
    port is closed), and the test reads the clicks the requests queued."""
    settings.TRACKING_CLICK_BUFFER_URL = "redis://127.0.0.1:1/0"
    monkeypatch.setattr(clickbuffer, "SHIP_SECONDS", 3600)
    clickbuffer._take()
    yield clickbuffer._take
    clickbuffer._take()


@pytest.fixture
def request_signals():
    sent = []

    def started(**kwargs):
        sent.append("started")

    def finished(**kwargs):
        sent.append("finished")

    request_started.connect(started)
    request_finished.connect(finished)
    yield sent
    request_started.disconnect(started)
    request_finished.disconnect(finished)


def _comparable(headers: dict[str, list[str]]) -> dict[str, list[str]]:
    # Per request by design: the request id, and in the cookie the click id and its expiry.
    same = {k: v for k, v in headers.items() if k != "x-request-id"}
    if "set-cookie" in same:
        same["set-cookie"] = [
            re.sub(r"rp_click=[0-9A-Z]{26}|expires=[^;]+", "…", c) for c in same["set-cookie"]
        ]
    return same


@pytest.mark.parametrize(
    ("path", "method", "headers"),
    [
        ("/r/{code}?s=wechat&utm_source=wx", "get", {"HTTP_USER_AGENT": "Mozilla/5.0"}),
        (
            "/r/{code}/",
            "get",
            {
                "HTTP_USER_AGENT": "Mozilla/5.0",
                "HTTP_COOKIE": "rp_click=01HZZZZZZZZZZZZZZZZZZZZZZZ",
            },
        ),
        ("/r/{code}", "get", {"HTTP_USER_AGENT": "WhatsApp/2.23.20.0"}),
        ("/r/{code}", "head", {"HTTP_USER_AGENT": "Mozilla/5.0"}),
        ("/r/{code}", "get", {"HTTP_USER_AGENT": "Mozilla/5.0", "wsgi.url_scheme": "https"}),
        ("/r/NOPE123", "get", {"HTTP_ACCEPT_LANGUAGE": "zh-CN"}),
    ],
)
def test_a_redirect_answered_from_memory_skips_the_request_signals_and_answers_the_same(
    alice_code, buffered, request_signals, path, method, headers
):
    path = path.format(code=alice_code.code.lower() if path.endswith("/") else alice_code.code)
    cold = wsgi_get(path, method, **headers)  # the code's lookup is not in memory yet
    assert request_signals == ["started", "finished"]
    cold_clicks = buffered()

    request_signals.clear()
    warm = wsgi_get(path, method, **headers)
    assert request_signals == []  # served from memory: no connection to reset or close
    warm_clicks = buffered()

    assert warm[0] == cold[0]
    assert _comparable(warm[1]) == _comparable(cold[1])
    assert warm[2] == cold[2]
    assert len(warm_clicks) == len(cold_clicks)
    drop = ("id", "created_at")
    assert [{k: v for k, v in c.items() if k not in drop} for c in warm_clicks] == [
        {k: v for k, v in c.items() if k not in drop} for c in cold_clicks
    ]
    assert Click.unscoped.count() == 0


def test_without_the_click_buffer_every_redirect_goes_through_the_request_signals(
    alice_code, request_signals
):
    for _ in range(2):
        status, _, _ = wsgi_get(f"/r/{alice_code.code}", HTTP_USER_AGENT="Mozilla/5.0")
        assert status == "302 Found"
    assert request_signals == ["started", "finished"] * 2  # the click is a database write
    assert Click.unscoped.count() == 2


def test_a_post_and_other_paths_under_r_are_never_answered_from_memory(
    alice_code, buffered, request_signals
):
    wsgi_get(f"/r/{alice_code.code}", HTTP_USER_AGENT="Mozilla/5.0")
    request_signals.clear()
    wsgi_get(f"/r/{alice_code.code}", "post", HTTP_USER_AGENT="Mozilla/5.0")
    wsgi_get(f"/r/{alice_code.code}/more", HTTP_USER_AGENT="Mozilla/5.0")
    assert request_signals == ["started", "finished"] * 2


def test_a_code_about_to_leave_memory_is_served_through_the_full_request_cycle(
    alice_code, buffered, request_signals
):
    wsgi_get(f"/r/{alice_code.code}", HTTP_USER_AGENT="Mozilla/5.0")
    _, entry = services._local[alice_code.code]
    services._local[alice_code.code] = (time.monotonic() + codes.MEMORY_SPARE / 2, entry)
    request_signals.clear()
    status, _, _ = wsgi_get(f"/r/{alice_code.code}", HTTP_USER_AGENT="Mozilla/5.0")
    assert status == "302 Found"
    assert request_signals == ["started", "finished"]
