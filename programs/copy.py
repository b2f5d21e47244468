"""A program's copy in one language. The spec's texts a customer reads (the offer, the share
texts) are each one string for every language or an object keyed by language code
(`{"en": …, "zh-hans": …}`, spec/schema.py `$defs/text`); the pages read them through here."""

from __future__ import annotations

from collections.abc import Mapping

from .spec.schema import COPY_LANGUAGES


def text_in(value, language: str) -> str:
    """`value` in `language`: the string itself, or the language's entry, else another
    language's (the languages in their listed order), else ""."""
    if isinstance(value, str):
        return value
    if not isinstance(value, Mapping):
        return ""
    for code in ((language or "").lower(), *COPY_LANGUAGES, *value):
        text = value.get(code)
        if isinstance(text, str) and text.strip():
            return text
    return ""


def copy_in(spec: Mapping, language: str) -> dict:
    """The spec with its copy (`offer`, `share_copy`) as plain strings in `language`; the
    rest unchanged. Apply it after the visitor's variants (`spec_for_variants`), so a
    variant's per-language copy is the one read."""
    out = dict(spec)
    offer = spec.get("offer")
    if isinstance(offer, Mapping):
        out["offer"] = {key: text_in(value, language) for key, value in offer.items()}
    share = spec.get("share_copy")
    if isinstance(share, Mapping):
        out["share_copy"] = {
            channel: text for channel, value in share.items() if (text := text_in(value, language))
        }
    return out
