"""Which language a customer's page speaks, and remembering the one they pick."""

from __future__ import annotations

from django.conf import settings
from django.utils.http import url_has_allowed_host_and_scheme

from . import rules


def request_language(request, *, participant_locale: str = "", tenant_locale: str = "") -> str:
    """`rules.portal_language` for a page request: the switch's cookie, the participant's
    language, the browser's, the tenant's default."""
    return rules.portal_language(
        participant_locale,
        tenant_locale,
        accept_language=request.META.get("HTTP_ACCEPT_LANGUAGE", ""),
        chosen=request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, ""),
    )


def language_remember(request, response, language: str):
    """The language cookie the switch sets (a year, like Django's own `set_language`)."""
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE or 365 * 86400,
        samesite="Lax",
        secure=request.is_secure(),
    )
    return response


def safe_next(request, fallback: str) -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback
