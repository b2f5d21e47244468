"""Public pages: the redirect `/r/<code>`, the invite page `/i/<code>`, QR codes and posters.

The tenant comes from the code (globally unique), never from the request. Every
destination is program data: nothing in the request can choose where we redirect.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django import forms
from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_http_methods

from referral_platform.core import clock
from referral_platform.core.errors import ValidationFailed
from referral_platform.core.identity import classify_user_agent as classify
from referral_platform.core.identity import is_ulid, new_ulid, normalize_phone
from referral_platform.core.net import client_ip, is_web_url
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
def _lean_page(request, template: str, status: int):
    """A page from the redirect, which is served without LocaleMiddleware (wsgi.py): the
    visitor's language is chosen here, for this response only."""
    with translation.override(translation.get_language_from_request(request)):
        return render(request, template, status=status)


def redirect(request, code: str):
    """One cached lookup and one cheap write (a buffered or single-row click insert)."""
    now = clock.now()
    entry = services.code_resolve(code)
    if entry is None:
        return _lean_page(request, "tracking/public/unknown.html", 404)
    if _ended(entry, now):
        return _lean_page(request, "tracking/public/ended.html", 410)
    if entry.get("held_out"):
        # The program holds this referrer out (SEMANTICS §10): like a rotated code.
        entry = {**entry, "rotated": True}
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


def _invite_context(entry: dict, click_id: str = "") -> dict:
    """What the invite page and the poster show. With the visitor's click id, the copy is
    their referee-side variant's: the one their referral will keep when it is created."""
    from portal.selectors import invite_extras
    from programs.engine import spec_for_variants, variants_assign, variants_encode
    from programs.selectors import program_list
    from referral_platform.tenancy.models import Tenant

    tenant = Tenant.objects.get(pk=entry["tenant_id"])
    program = program_list(tenant).get(pk=entry["program_id"])
    variants = variants_assign(program.spec, "referee", click_id) if click_id else {}
    spec = spec_for_variants(program.spec, variants)
    offer = spec.get("offer") or {}
    return {
        "variant": variants_encode(variants),
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


class InviteForm(forms.Form):
    """The invite page's sign-up: every problem found on the first submit, each under its
    field, in the page's language (the service checks again before writing)."""

    name = forms.CharField(max_length=200, required=False)
    email = forms.EmailField(max_length=254, required=False)
    phone = forms.CharField(max_length=40, required=False)
    consent = forms.BooleanField(
        required=True, error_messages={"required": _lazy("Please accept to continue.")}
    )

    def clean_phone(self) -> str:
        phone = self.cleaned_data["phone"].strip()
        if phone:
            try:
                normalize_phone(phone)
            except ValueError:
                raise forms.ValidationError(
                    _("Enter a valid phone number, with its country code.")
                ) from None
        return phone

    def clean(self):
        data = super().clean()
        blank = not (data.get("email") or data.get("phone"))
        if blank and not self.has_error("email") and not self.has_error("phone"):
            self.add_error("email", _("Give an email address or a phone number."))
        return data


@require_http_methods(["GET", "POST"])
def invite(request, code: str):
    from portal.language import request_language

    entry = services.code_resolve(code)
    if entry is None:
        return render(request, "tracking/public/unknown.html", status=404)
    if _ended(entry, clock.now()):
        return render(request, "tracking/public/ended.html", status=410)
    if entry.get("held_out"):
        # The program holds this referrer out (SEMANTICS §10): like a rotated code.
        entry = {**entry, "rotated": True}
    click_ids = _cookie_ids(request)
    context = _invite_context(entry, click_ids[0] if click_ids else "")
    language = request_language(request, tenant_locale=context["brand_tenant"].default_locale)
    with translation.override(language):
        request.LANGUAGE_CODE = language
        return _invite_page(request, entry, context)


def _invite_page(request, entry: dict, context: dict):
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
        checked = InviteForm(request.POST)
        if not checked.is_valid():
            errors = {field: list(messages) for field, messages in checked.errors.items()}
        else:
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


def _image_response(
    request, body: bytes, content_type: str, cache_control: str = "public, max-age=3600"
) -> HttpResponse:
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    if request.headers.get("If-None-Match") == etag:
        response = HttpResponse(status=304)
    else:
        response = HttpResponse(body, content_type=content_type)
    response["ETag"] = etag
    response["Cache-Control"] = cache_control
    return response


def _version_key(entry: dict) -> str:
    from programs.selectors import program_version_stamp

    return f"{program_version_stamp(entry['program_id'])}"


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
    # The portal asks for the poster in the language the referrer reads it in.
    chosen = request.GET.get("lang", "")
    language = chosen if chosen in dict(settings.LANGUAGES) else translation.get_language()
    language = language or settings.LANGUAGE_CODE
    fingerprint = hashlib.sha256(
        f"{_version_key(entry)}|{entry['referrer_name']}|{language}|{entry['rotated']}".encode()
    ).hexdigest()[:16]
    key = f"tracking:poster:{entry['code']}:{fingerprint}"
    body = cache.get(key)
    if body is None:
        with translation.override(language):
            body = _poster_png(entry)
        cache.set(key, body, 86400)
    # A poster names its referrer: browsers check back (a 304 while it is unchanged), so an
    # erased name is not kept in their caches.
    return _image_response(request, body, "image/png", cache_control="public, no-cache")


def _poster_png(entry: dict) -> bytes:
    context = _invite_context(entry)
    name = context["referrer_name"]
    invite_line = _("%(name)s invites you") % {"name": name} if name else _("You are invited")
    return qr.poster_png(
        code=context["code"] or entry["code"],
        referrer_name=name,
        headline=context["offer_headline"],
        body=context["offer_body"],
        invite_line=invite_line,
        scan_line=_("Scan to accept the invitation"),
        brand_colour=context["brand_tenant"].brand_colour,
        tenant_name=context["brand_tenant"].name,
    )


@require_http_methods(["GET", "HEAD"])
def event_qr_image(request, code: str):
    """The QR of a signed event link; only a valid, unexpired signature gets an image."""
    entry = services.code_resolve(code)
    params = (request.GET.get("e", ""), request.GET.get("x", ""), request.GET.get("sig", ""))
    if entry is None or not qr.event_qr_valid(entry["code"], *params, int(clock.now().timestamp())):
        return render(request, "tracking/public/unknown.html", status=404)
    target = qr.event_qr_url(entry["code"], params[0], int(params[1]))
    return _image_response(request, qr.qr_png(target), "image/png")
