"""Public pages a referee or referrer opens without signing in: the invite page `/i/<code>`,
QR codes and posters (the redirect `/r/<code>` is tracking.public).

The tenant comes from the code (globally unique), never from the request.
"""

from __future__ import annotations

import hashlib

from django import forms
from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_http_methods

from referral_platform.core import clock
from referral_platform.core.errors import ValidationFailed
from referral_platform.core.identity import normalize_phone
from referral_platform.core.ratelimit import ip_limit_wait
from tracking import qr, services
from tracking.public import _cookie_ids, _ended


def _invite_context(entry: dict, click_id: str = "", language: str = "", tenant=None) -> dict:
    """What the invite page and the poster show, in `language` (else the active one). With
    the visitor's click id, the copy is their referee-side variant's: the one their referral
    will keep when it is created."""
    from portal.selectors import invite_extras
    from programs.copy import copy_in
    from programs.engine import spec_for_variants, variants_assign, variants_encode
    from programs.pause import new_referrals_paused
    from programs.selectors import program_list
    from referral_platform.tenancy.models import Tenant

    tenant = tenant or Tenant.objects.get(pk=entry["tenant_id"])
    program = program_list(tenant).get(pk=entry["program_id"])
    variants = variants_assign(program.spec, "referee", click_id) if click_id else {}
    # The friend reads the FAQ entries for friends and for everyone.
    spec = copy_in(
        spec_for_variants(program.spec, variants),
        language or translation.get_language() or "",
        audience="friend",
    )
    offer = spec.get("offer") or {}
    return {
        "variant": variants_encode(variants),
        "brand_tenant": tenant,
        "program": program,
        "offer_headline": offer.get("headline", ""),
        "offer_body": offer.get("body", ""),
        "poster_text": (spec.get("share_copy") or {}).get("poster", ""),
        "faq": spec.get("faq") or [],
        "terms": spec.get("terms") or "",
        "referrer_name": "" if entry["rotated"] else entry["referrer_name"],
        "code": "" if entry["rotated"] else entry["code"],
        "landing_url": program.landing_url,
        # Paused (programs.pause): the page says so and takes no sign-up.
        "paused": new_referrals_paused(program.status),
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
    entry = services.code_entry_for_visitors(entry)
    from referral_platform.tenancy.models import Tenant

    click_ids = _cookie_ids(request)
    tenant = Tenant.objects.get(pk=entry["tenant_id"])
    language = request_language(request, tenant_locale=tenant.default_locale)
    context = _invite_context(entry, click_ids[0] if click_ids else "", language, tenant)
    with translation.override(language):
        request.LANGUAGE_CODE = language
        return _invite_page(request, entry, context)


def _invite_page(request, entry: dict, context: dict):
    form = {"name": "", "email": "", "phone": "", "consent": False}
    errors: dict = {}
    if request.method == "POST" and not context["paused"]:
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
                "portal/public/invite.html",
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
                return render(request, "portal/public/thanks.html", context)
    return render(
        request,
        "portal/public/invite.html",
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
    entry = services.code_entry_for_visitors(entry)
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
            body = _poster_png(entry, language)
        cache.set(key, body, 86400)
    # A poster names its referrer: browsers check back (a 304 while it is unchanged), so an
    # erased name is not kept in their caches.
    return _image_response(request, body, "image/png", cache_control="public, no-cache")


def _poster_png(entry: dict, language: str) -> bytes:
    context = _invite_context(entry, language=language)
    name = context["referrer_name"]
    invite_line = _("%(name)s invites you") % {"name": name} if name else _("You are invited")
    return qr.poster_png(
        code=context["code"] or entry["code"],
        referrer_name=name,
        # The program's poster text, else its offer headline.
        headline=context["poster_text"] or context["offer_headline"],
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
