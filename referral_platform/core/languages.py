"""The language a customer (a tenant's participant) reads — the portal, the invite page, the
emails: one rule for all of them."""

from __future__ import annotations

SUPPORTED_LANGUAGES = ("en", "zh-hans")


def _language_of(value: str) -> str:
    """`zh`, `zh-CN`, `zh_Hans`, `zh-hans-CN` all read as Simplified Chinese; the rest English."""
    code = (value or "").strip().lower().replace("_", "-")
    if code.startswith("zh") and not any(t in code for t in ("hant", "-tw", "-hk", "-mo")):
        return "zh-hans"
    return "en"


def _accepted(accept_language: str) -> str:
    """The first language of an Accept-Language header we speak, in the browser's order."""
    from django.utils.translation.trans_real import parse_accept_lang_header

    for code, _q in parse_accept_lang_header(accept_language or ""):
        code = code.lower()
        if code.startswith("zh") or code.startswith("en"):
            return _language_of(code)
    return ""


def customer_language(
    participant_locale: str, tenant_locale: str, *, accept_language: str = "", chosen: str = ""
) -> str:
    """The language a customer reads: the one they chose with the page's switch, else the
    participant's own, else the browser's (Accept-Language), else the tenant's default."""
    if chosen in SUPPORTED_LANGUAGES:
        return chosen
    if (participant_locale or "").strip():
        return _language_of(participant_locale)
    accepted = _accepted(accept_language)
    if accepted:
        return accepted
    if (tenant_locale or "").strip():
        return _language_of(tenant_locale)
    return "en"
