"""Public pages: the redirect `/r/<code>`, the invite page `/i/<code>`, QR codes and posters.

The tenant comes from the code (globally unique), never from the request. Every
destination is program data: nothing in the request can choose where we redirect.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from referral_platform.core import clock
from referral_platform.core.errors import ValidationFailed
from referral_platform.core.identity import classify_user_agent as classify
from referral_platform.core.identity import is_ulid, new_ulid
from referral_platform.core.net import client_ip
from referral_platform.core.ratelimit import ip_limit_wait

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
def redirect(request, code: str):
    """One cached lookup and one cheap write (a buffered or single-row click insert)."""
    now = clock.now()
    entry = services.code_resolve(code)
    if entry is None:
        return render(request, "tracking/public/unknown.html", status=404)
    if _ended(entry, now):
        return render(request, "tracking/public/ended.html", status=410)
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
    if entry["rotated"]:
        # A leaked code: the standard offer, carrying no referrer.
        destination = entry["landing_url"] or f"/i/{entry['code']}"
    elif entry["landing_url"]:
        params = {"ref": entry["code"]}
        if counted:
            params["click_id"] = click_id
        destination = _with_params(entry["landing_url"], params)
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


def _invite_context(entry: dict) -> dict:
    from programs.models import Program
    from referral_platform.tenancy.models import Tenant
    from tracking.portal.selectors import invite_extras

    tenant = Tenant.objects.get(pk=entry["tenant_id"])
    program = (
        Program.objects.for_tenant(tenant)
        .select_related("current_version")
        .get(pk=entry["program_id"])
    )
    offer = program.spec.get("offer") or {}
    return {
        "brand_tenant": tenant,
        "program": program,
        "offer_headline": offer.get("headline", ""),
        "offer_body": offer.get("body", ""),
        "referrer_name": "" if entry["rotated"] else entry["referrer_name"],
        "code": "" if entry["rotated"] else entry["code"],
        "landing_url": program.landing_url,
        # The personal note, offer validity and social proof (the portal's invite extras).
        **invite_extras(tenant=tenant, program=program, entry=entry),
    }


@require_http_methods(["GET", "POST"])
def invite(request, code: str):
    entry = services.code_resolve(code)
    if entry is None:
        return render(request, "tracking/public/unknown.html", status=404)
    if _ended(entry, clock.now()):
        return render(request, "tracking/public/ended.html", status=410)
    context = _invite_context(entry)
    form = {"name": "", "email": "", "phone": "", "consent": False}
    errors: dict = {}
    if request.method == "POST":
        form = {
            "name": request.POST.get("name", "")[:200],
            "email": request.POST.get("email", "")[:254],
            "phone": request.POST.get("phone", "")[:40],
            "consent": request.POST.get("consent") == "on",
        }
        lead_entry = (
            {**entry, "code": context["code"]} if context["code"] else {**entry, "code": ""}
        )
        wait = ip_limit_wait(request, group="invite_signup", rate=settings.INVITE_RATE_LIMIT)
        if wait is not None:
            # The form comes back as typed, so the visitor only has to press the button again.
            response = render(
                request,
                "tracking/public/invite.html",
                {**context, "form": form, "errors": {}, "retry_after": wait},
                status=429,
            )
            response["Retry-After"] = str(wait)
            return response
        try:
            services.lead_signup(
                entry=lead_entry,
                name=form["name"],
                email=form["email"],
                phone=form["phone"],
                locale=translation.get_language() or "",
                click_ids=_cookie_ids(request),
                consent=form["consent"],
            )
        except ValidationFailed as exc:
            errors = exc.fields
        else:
            return render(request, "tracking/public/thanks.html", context)
    return render(
        request,
        "tracking/public/invite.html",
        {**context, "form": form, "errors": errors},
        status=422 if errors else 200,
    )


# --- QR codes and posters ------------------------------------------------------------------


def _image_response(request, body: bytes, content_type: str) -> HttpResponse:
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    if request.headers.get("If-None-Match") == etag:
        response = HttpResponse(status=304)
    else:
        response = HttpResponse(body, content_type=content_type)
    response["ETag"] = etag
    response["Cache-Control"] = "public, max-age=3600"
    return response


def _version_key(entry: dict) -> str:
    from programs.models import Program

    version = (
        Program.unscoped.filter(pk=entry["program_id"])
        .values_list("current_version_id", "tenant__brand_colour")
        .first()
    )
    return f"{version}"


@require_http_methods(["GET", "HEAD"])
def qr_image(request, code: str, fmt: str):
    entry = services.code_resolve(code)
    if entry is None:
        return render(request, "tracking/public/unknown.html", status=404)
    target = qr.qr_target(entry["code"])
    if fmt == "svg":
        return _image_response(request, qr.qr_svg(target), "image/svg+xml")
    key = f"tracking:qr:png:{entry['code']}"
    body = cache.get(key)
    if body is None:
        body = qr.qr_png(target)
        cache.set(key, body, 86400)
    return _image_response(request, body, "image/png")


@require_http_methods(["GET", "HEAD"])
def poster(request, code: str):
    """Cached per program version, brand colour, referrer name and language, so editing
    the program's copy (a new version) or the brand makes a new poster."""
    entry = services.code_resolve(code)
    if entry is None:
        return render(request, "tracking/public/unknown.html", status=404)
    language = translation.get_language() or settings.LANGUAGE_CODE
    fingerprint = hashlib.sha256(
        f"{_version_key(entry)}|{entry['referrer_name']}|{language}|{entry['rotated']}".encode()
    ).hexdigest()[:16]
    key = f"tracking:poster:{entry['code']}:{fingerprint}"
    body = cache.get(key)
    if body is None:
        context = _invite_context(entry)
        name = context["referrer_name"]
        invite_line = _("%(name)s invites you") % {"name": name} if name else _("You are invited")
        body = qr.poster_png(
            code=context["code"] or entry["code"],
            referrer_name=name,
            headline=context["offer_headline"],
            body=context["offer_body"],
            invite_line=invite_line,
            scan_line=_("Scan to accept the invitation"),
            brand_colour=context["brand_tenant"].brand_colour,
            tenant_name=context["brand_tenant"].name,
        )
        cache.set(key, body, 86400)
    return _image_response(request, body, "image/png")


@require_http_methods(["GET", "HEAD"])
def event_qr_image(request, code: str):
    """The QR of a signed event link; only a valid, unexpired signature gets an image."""
    entry = services.code_resolve(code)
    params = (request.GET.get("e", ""), request.GET.get("x", ""), request.GET.get("sig", ""))
    if entry is None or not qr.event_qr_valid(entry["code"], *params, int(clock.now().timestamp())):
        return render(request, "tracking/public/unknown.html", status=404)
    target = qr.event_qr_url(entry["code"], params[0], int(params[1]))
    return _image_response(request, qr.qr_png(target), "image/png")
