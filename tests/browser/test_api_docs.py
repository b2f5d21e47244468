"""The API docs page renders the schema with Redoc from our own static files: nothing is
fetched from another site (no CDN, no web fonts), and the page breaks no Content Security
Policy of ours beyond the one refusal that keeps it that way."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser

# Redoc always renders its "API docs by Redocly" logo from its CDN; the site's CSP
# (img-src 'self' data:) refuses it, so the browser never asks that host for anything.
REDOC_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"


def test_the_api_docs_render_from_our_own_static_files(live_server, page, shot, db):
    fetched: list[str] = []
    page.on("requestfinished", lambda request: fetched.append(request.url))
    page.on("response", lambda response: fetched.append(response.url))
    page.goto(live_server.url + "/api/v1/docs/")
    page.get_by_text("Referral Platform API").first.wait_for()
    page.get_by_text("/events/batch").first.wait_for(state="attached")
    shot(page, "api-docs")
    outside = [url for url in fetched if not url.startswith((live_server.url, "data:", "blob:"))]
    assert outside == []
    assert any("/static/drf_spectacular_sidecar/redoc/" in url for url in fetched)
    problems = [p for p in page.console_problems if REDOC_LOGO not in p]
    assert problems == [], problems
