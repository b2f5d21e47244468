"""Normalising and keyed hashing of the identifiers fraud matches on (SEMANTICS §8).

Matching never needs the clear value, so every identifier becomes a keyed HMAC of its
normalised form: a plain hash of a phone number or an IPv4 address is reversible by
enumeration. The kind is part of the hashed message so a phone can never match a device
id that happens to have the same digits.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import re
import unicodedata

from django.conf import settings

# Providers whose users share a domain without sharing an employer: a common domain
# there says nothing about "the same company". Disposable domains are excluded as well
# (they have their own signal).
FREE_MAIL_DOMAINS = frozenset(
    {
        "gmail.com",
        "googlemail.com",
        "outlook.com",
        "hotmail.com",
        "live.com",
        "msn.com",
        "yahoo.com",
        "yahoo.co.jp",
        "yahoo.co.uk",
        "ymail.com",
        "icloud.com",
        "me.com",
        "mac.com",
        "aol.com",
        "proton.me",
        "protonmail.com",
        "gmx.com",
        "gmx.de",
        "gmx.net",
        "web.de",
        "mail.com",
        "mail.ru",
        "yandex.ru",
        "yandex.com",
        "zoho.com",
        "qq.com",
        "foxmail.com",
        "163.com",
        "126.com",
        "yeah.net",
        "sina.com",
        "sina.cn",
        "sohu.com",
        "aliyun.com",
        "139.com",
        "189.cn",
        "naver.com",
        "daum.net",
        "hanmail.net",
        "t-online.de",
        "orange.fr",
        "free.fr",
        "laposte.net",
        "libero.it",
        "rediffmail.com",
    }
)

# Providers that ignore dots in the local part: a.b.c@gmail.com is abc@gmail.com.
_DOTLESS_DOMAINS = {"gmail.com": "gmail.com", "googlemail.com": "gmail.com"}

_ADDRESS_ABBREVIATIONS = {
    "street": "st",
    "avenue": "ave",
    "road": "rd",
    "boulevard": "blvd",
    "apartment": "apt",
    "suite": "ste",
    "floor": "fl",
    "building": "bldg",
    "drive": "dr",
    "lane": "ln",
    "number": "no",
    "north": "n",
    "south": "s",
    "east": "e",
    "west": "w",
}


def normalise_email(email: str) -> str:
    """Lower-cased, `+tags` dropped, dots dropped where the provider ignores them."""
    email = (email or "").strip().lower()
    local, at, domain = email.rpartition("@")
    if not at or not local or not domain:
        return ""
    domain = domain.rstrip(".")
    local = local.split("+", 1)[0]
    if domain in _DOTLESS_DOMAINS:
        domain = _DOTLESS_DOMAINS[domain]
        local = local.replace(".", "")
    return f"{local}@{domain}"


def email_domain(email: str) -> str:
    normalised = normalise_email(email)
    return normalised.rpartition("@")[2] if normalised else ""


def normalise_phone(phone: str) -> str:
    """Digits only, a leading international `+` kept; `00` prefixes become `+`."""
    phone = (phone or "").strip()
    digits = re.sub(r"\D", "", phone)
    if not digits:
        return ""
    if phone.startswith("+"):
        return "+" + digits
    if digits.startswith("00"):
        return "+" + digits[2:]
    return digits


def normalise_address(address) -> str:
    """One comparable string for a postal address given as text or as an object."""
    if isinstance(address, dict):
        parts = [str(v) for k, v in sorted(address.items()) if v and k != "name"]
        address = " ".join(parts)
    text = unicodedata.normalize("NFKC", str(address or "")).lower()
    text = re.sub(r"[^\w\s]", " ", text)
    words = [_ADDRESS_ABBREVIATIONS.get(w, w) for w in text.split()]
    return " ".join(words)


def normalise_ip(ip: str) -> tuple[str, str]:
    """`(address, network)`: the network is the /24 for IPv4 and the /64 for IPv6."""
    try:
        parsed = ipaddress.ip_address((ip or "").strip())
    except ValueError:
        return "", ""
    prefix = 24 if parsed.version == 4 else 64
    network = ipaddress.ip_network(f"{parsed}/{prefix}", strict=False)
    return str(parsed), str(network)


def identity_hash(kind: str, value: str) -> str:
    """Keyed HMAC-SHA256 of an already normalised value; empty in, empty out."""
    if not value:
        return ""
    key = str(settings.IDENTITY_HMAC_KEY).encode()
    return hmac.new(key, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()


_HEADLESS_MARKERS = (
    "headlesschrome",
    "phantomjs",
    "puppeteer",
    "playwright",
    "selenium",
    "webdriver",
    "slimerjs",
    "electron",
)
_PREVIEW_MARKERS = (
    "facebookexternalhit",
    "slackbot",
    "twitterbot",
    "whatsapp",
    "telegrambot",
    "discordbot",
    "linkedinbot",
    "skypeuripreview",
    "embedly",
    "bingpreview",
    "googlebot",
    "bot/",
    "crawler",
    "spider",
    "curl/",
    "python-requests",
    "wget/",
)


def user_agent_class(user_agent: str) -> str:
    """`headless`, `preview` (link unfurlers and crawlers) or `browser`."""
    ua = (user_agent or "").lower()
    if not ua:
        return ""
    if any(marker in ua for marker in _HEADLESS_MARKERS):
        return "headless"
    if any(marker in ua for marker in _PREVIEW_MARKERS):
        return "preview"
    return "browser"


# Tokens: the keyed hashes fraud stores and compares. Email, phone and IP use tracking's
# hashing when it is there, so a Participant's `email_hash` and a Click's `ip_hash` match
# the tokens made here from an event's context.


def email_token(email: str) -> str:
    try:
        from tracking.identity import email_hash
    except ImportError:  # tracking not built yet: same construction, fraud's normaliser
        return identity_hash("email", normalise_email(email))
    return email_hash(email)


def phone_token(phone: str) -> str:
    try:
        from tracking.identity import normalize_phone, phone_hash
    except ImportError:
        return identity_hash("phone", normalise_phone(phone))
    try:
        return phone_hash(normalize_phone(phone))
    except ValueError:
        # Not a valid number for tracking; still comparable with itself.
        return identity_hash("phone", normalise_phone(phone))


def ip_tokens(ip: str) -> tuple[str, str]:
    """Keyed hashes of the address and of its network (/24 for IPv4)."""
    try:
        from tracking.identity import ip_hashes
    except ImportError:
        address, network = normalise_ip(ip)
        return identity_hash("ip", address), identity_hash("net", network)
    return ip_hashes(ip)


def device_token(device_id: str) -> str:
    return identity_hash("device", (device_id or "").strip())


def payment_token(fingerprint: str) -> str:
    return identity_hash("payment", (fingerprint or "").strip())


def address_token(address) -> str:
    return identity_hash("address", normalise_address(address))


def domain_token(domain: str) -> str:
    return identity_hash("domain", (domain or "").strip().lower().rstrip("."))


def mask(kind: str, value: str) -> str:
    """What a reviewer sees of a blocklisted value: enough to recognise, not to reuse."""
    value = (value or "").strip()
    if kind in ("domain",):
        return value.lower()
    if kind == "email" and "@" in value:
        local, _, domain = value.partition("@")
        return f"{local[:1]}***@{domain}"
    if len(value) <= 4:
        return "****"
    return f"{value[:2]}***{value[-2:]}"


def is_disposable_domain(domain: str) -> bool:
    from disposable_email_domains import blocklist

    domain = (domain or "").lower()
    # Subdomains of a throwaway service are throwaway too (x.mailinator.com).
    parts = domain.split(".")
    return any(".".join(parts[i:]) in blocklist for i in range(len(parts) - 1))


def is_free_mail_domain(domain: str) -> bool:
    return domain in FREE_MAIL_DOMAINS or is_disposable_domain(domain)
