"""The public redirect `/r/<code>` (the invite page, QR codes and posters are portal.public).

The tenant comes from the code (globally unique), never from the request. Every
destination is program data: nothing in the request can choose where we redirect.
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.utils import translation
from django.views.decorators.http import require_http_methods

from referral_platform.core import clock
from referral_platform.core.identity import classify_user_agent as classify
from referral_platform.core.identity import is_ulid, new_ulid
from referral_platform.core.net import client_ip, is_web_url

from . import qr, services

COOKIE = "rp_click"
COOKIE_KEEP = 5  # the most recent click ids: the cookie touches attribution reads
SHARE_SOURCES = {
    "qr",
    "event",
    "wechat",
    "whatsapp",
    "telegram",
    "email",
    "sms",
    "x",
    "linkedin",
    "copy",
    "poster",
}
UTM_KEYS = ("utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term")


def _ended(entry: dict, now: datetime) -> bool:
    if entry["program_status"] == "ended":
        return True
    return bool(entry["ends_at"]) and datetime.fromisoformat(entry["ends_at"]) <= now


def _with_params(url: str, params: dict) -> str:
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in params]
    return urlunsplit(parts._replace(query=urlencode(query + list(params.items()))))


def _cookie_ids(request) -> list[str]:
    raw = request.COOKIES.get(COOKIE, "")
    return [c for c in raw.split(".") if is_ulid(c)][:COOKIE_KEEP]


def _source(request, code: str, now: datetime) -> str:
    source = request.GET.get("s", "")
    if source not in SHARE_SOURCES:
        return "link"
    if source == "event":
        valid = qr.event_qr_valid(
            code,
            request.GET.get("e", ""),
            request.GET.get("x", ""),
            request.GET.get("sig", ""),
            int(now.timestamp()),
        )
        return "event" if valid else "link"
    return source


@require_http_methods(["GET", "HEAD"])
def _lean_page(request, template: str, status: int):
    """A page from the redirect, which is served without LocaleMiddleware (wsgi.py): the
    visitor's language is chosen here, for this response only."""
    with translation.override(translation.get_language_from_request(request)):
        return render(request, template, status=status)


def redirect_from_memory(environ: dict) -> bool:
    """For the production WSGI entry point's lean handler (core.lean): a GET or HEAD of
    `/r/<code>` that this process answers from memory, without the database or the cache."""
    path = environ.get("PATH_INFO", "")
    if environ.get("REQUEST_METHOD") not in ("GET", "HEAD") or not path.startswith("/r/"):
        return False
    return services.code_answered_from_memory(path[3:].removesuffix("/"))


def redirect(request, code: str):
    """One cached lookup and one cheap write (a buffered or single-row click insert)."""
    now = clock.now()
    entry = services.code_resolve(code)
    if entry is None:
        return _lean_page(request, "tracking/public/unknown.html", 404)
    if _ended(entry, now):
        return _lean_page(request, "tracking/public/ended.html", 410)
    entry = services.code_entry_for_visitors(entry)
    user_agent = request.META.get("HTTP_USER_AGENT", "")[:400]
    ua_class = classify(user_agent)
    counted = request.method == "GET" and ua_class != "bot" and not entry["opted_out"]
    click_id = new_ulid(int(now.timestamp() * 1000))
    if counted:
        utm = {k: request.GET[k][:100] for k in UTM_KEYS if k in request.GET}
        services.click_record(
            entry=entry,
            click_id=click_id,
            source=_source(request, entry["code"], now),
            ip=client_ip(request),
            ua_class=ua_class,
            referer=request.META.get("HTTP_REFERER", ""),
            utm=utm,
            is_bot=False,
            now=now,
        )
    # A landing URL saved before http(s) was required is never followed (javascript:, data:,
    # //elsewhere): the invite page stands in for it.
    landing_url = entry["landing_url"] if is_web_url(entry["landing_url"] or "") else ""
    if entry["rotated"]:
        # A leaked code: the standard offer, carrying no referrer.
        destination = landing_url or f"/i/{entry['code']}"
    elif landing_url:
        params = {"ref": entry["code"]}
        if counted:
            params["click_id"] = click_id
        destination = _with_params(landing_url, params)
    else:
        destination = f"/i/{entry['code']}"
    response = HttpResponseRedirect(destination)
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "no-referrer"
    if counted and not entry["rotated"]:
        ids = [click_id] + [c for c in _cookie_ids(request) if c != click_id]
        response.set_cookie(
            COOKIE,
            ".".join(ids[:COOKIE_KEEP]),
            max_age=entry.get("window_days", 90) * 86400,
            httponly=True,
            samesite="Lax",
            secure=request.is_secure(),
        )
    return response
