"""A program's copy in one language. The spec's texts a customer reads (the offer, the share
texts) are each one string for every language or an object keyed by language code
(`{"en": …, "zh-hans": …}`, spec/schema.py `$defs/text`); its FAQ (a list of questions and
answers, each for everyone or for one audience) and terms are objects keyed by language code.
The pages read them through here: the portal as the referrer, the invite page as the friend."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from .spec.schema import COPY_LANGUAGES, FAQ_EVERYONE


def _in_language(value: Mapping, language: str, usable: Callable[[object], bool]):
    """The language's entry, else another language's (the languages in their listed order),
    else None: the first that `usable` accepts."""
    for code in ((language or "").lower(), *COPY_LANGUAGES, *value):
        entry = value.get(code)
        if usable(entry):
            return entry
    return None


def text_in(value, language: str) -> str:
    """`value` in `language`: the string itself, or the language's entry, else another
    language's (the languages in their listed order), else ""."""
    if isinstance(value, str):
        return value
    if not isinstance(value, Mapping):
        return ""
    return _in_language(value, language, lambda t: isinstance(t, str) and bool(t.strip())) or ""


def faq_for(entries, audience: str | None) -> list[dict]:
    """The FAQ entries `audience` ("referrer", "friend") reads: its own and everyone's (an
    entry without `for` is everyone's); all of them for no audience."""
    if not isinstance(entries, list):
        return []
    if audience is None:
        return entries
    readers = (audience, FAQ_EVERYONE)
    return [e for e in entries if isinstance(e, Mapping) and e.get("for", FAQ_EVERYONE) in readers]


def faq_in(faq, language: str, audience: str | None = None) -> list[dict]:
    """The program's questions and answers for `audience` in `language`, else another
    language's whole list for it (never one FAQ mixing languages), else []."""
    if not isinstance(faq, Mapping):
        return []
    readable = {code: faq_for(entries, audience) for code, entries in faq.items()}
    return _in_language(readable, language, bool) or []


def copy_in(spec: Mapping, language: str, audience: str | None = None) -> dict:
    """The spec with its copy (`offer`, `share_copy`, `terms`) as plain strings and its `faq`
    as one list, in `language` (the FAQ only the entries for `audience`, when given); the rest
    unchanged. Apply it after the visitor's variants (`spec_for_variants`), so a variant's
    per-language copy is the one read."""
    out = dict(spec)
    offer = spec.get("offer")
    if isinstance(offer, Mapping):
        out["offer"] = {key: text_in(value, language) for key, value in offer.items()}
    share = spec.get("share_copy")
    if isinstance(share, Mapping):
        out["share_copy"] = {
            channel: text for channel, value in share.items() if (text := text_in(value, language))
        }
    if "faq" in spec:
        out["faq"] = faq_in(spec["faq"], language, audience)
    if "terms" in spec:
        out["terms"] = text_in(spec["terms"], language)
    return out
