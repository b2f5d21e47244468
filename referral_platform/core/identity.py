"""The one set of rules for the identifiers we match on (SEMANTICS §8): normalising emails,
phones, IPs, devices, payment fingerprints and postal addresses; their keyed hashes; masking
them for display; classifying user agents.

Matching never needs the clear value, so every identifier becomes a keyed HMAC of its
normalised form: a plain hash of a phone number or an IPv4 address is reversible by
enumerating the number space, a keyed one is not without the key. The kind is part of the
hashed message so a phone can never match a device id that happens to have the same digits.

Tracking stores these hashes on participants and clicks; fraud compares them. Both call
this module, so a participant's `email_hash` and the token fraud makes from an event's
context are the same string.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import os
import re
import threading
import time
import unicodedata
from functools import lru_cache

import phonenumbers
from django.conf import settings

# --- email -----------------------------------------------------------------------------

# Providers that ignore dots in the local part and deliver `name+tag@` to `name@`.
_GMAIL_DOMAINS = {"gmail.com", "googlemail.com"}
# Providers that deliver `name+tag@` to `name@` but keep dots significant. Elsewhere a `+`
# may be part of a real, distinct address, so it is kept.
_PLUS_TAG_DOMAINS = {
    "outlook.com",
    "hotmail.com",
    "live.com",
    "icloud.com",
    "me.com",
    "fastmail.com",
    "proton.me",
    "protonmail.com",
    "yahoo.com",
}

# Providers whose users share a domain without sharing an employer: a common domain there
# says nothing about "the same company". Disposable domains are excluded as well (they have
# their own signal).
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


def normalize_email(value: str) -> str:
    """Lower-cased and trimmed: what we keep for display and notifications."""
    return (value or "").strip().lower()


def email_match_key(value: str) -> str:
    """The form every address of one mailbox shares: `googlemail.com` is `gmail.com`, Gmail
    ignores dots, and `+tags` are dropped where the provider delivers them to the mailbox.
    '' for a value that is not an address."""
    email = normalize_email(value)
    local, at, domain = email.rpartition("@")
    if not at or not local or not domain:
        return ""
    domain = domain.rstrip(".")
    if domain == "googlemail.com":
        domain = "gmail.com"
    if domain in _GMAIL_DOMAINS:
        local = local.split("+", 1)[0].replace(".", "")
    elif domain in _PLUS_TAG_DOMAINS:
        local = local.split("+", 1)[0]
    return f"{local}@{domain}"


def email_domain(value: str) -> str:
    email = normalize_email(value)
    return email.rpartition("@")[2].rstrip(".") if "@" in email else ""


def is_disposable_domain(domain: str) -> bool:
    from disposable_email_domains import blocklist

    domain = (domain or "").lower()
    # Subdomains of a throwaway service are throwaway too (x.mailinator.com).
    parts = domain.split(".")
    return any(".".join(parts[i:]) in blocklist for i in range(len(parts) - 1))


def is_free_mail_domain(domain: str) -> bool:
    return domain in FREE_MAIL_DOMAINS or is_disposable_domain(domain)


# --- phone -----------------------------------------------------------------------------


def normalize_phone(value: str, region: str | None = None) -> str:
    """E.164, or raise ValueError. Numbers without a country code are read in `region`."""
    raw = (value or "").strip()
    if not raw:
        return ""
    try:
        parsed = phonenumbers.parse(raw, region or getattr(settings, "PHONE_DEFAULT_REGION", "CN"))
    except phonenumbers.NumberParseException as exc:
        raise ValueError(str(exc)) from exc
    if not phonenumbers.is_valid_number(parsed):
        raise ValueError("not a valid phone number")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def phone_match_key(value: str) -> str:
    """E.164 when the number is valid; otherwise its digits (a leading `+` or `00` kept as
    `+`), so an odd number an event carries is still comparable with itself."""
    try:
        return normalize_phone(value)
    except ValueError:
        pass
    raw = (value or "").strip()
    digits = re.sub(r"\D", "", raw)
    if not digits:
        return ""
    if raw.startswith("+"):
        return "+" + digits
    if digits.startswith("00"):
        return "+" + digits[2:]
    return digits


# --- IP addresses ----------------------------------------------------------------------

# The network an address is matched on besides itself. IPv4: its /24. IPv6: its /48.
# /48 rather than /64 because an IPv6 /64 is a single LAN, the counterpart of one IPv4
# address behind NAT, while the "same network" signal is the weak, neighbourhood-level one
# the IPv4 /24 gives: a site's whole allocation (RFC 6177 hands a site /48 to /56), so every
# subnet of one home or office falls in it, and a phone that moves between /64s of its
# carrier's pool stays in it. Clicks and fingerprints were stored with /48 already, so
# existing network hashes keep matching.
IPV4_NETWORK_PREFIX = 24
IPV6_NETWORK_PREFIX = 48


def normalize_ip(ip: str | None) -> tuple[str, str]:
    """`(address, network)` in canonical text, or `("", "")` for what is not an address."""
    try:
        address = ipaddress.ip_address((ip or "").strip())
    except ValueError:
        return "", ""
    prefix = IPV4_NETWORK_PREFIX if address.version == 4 else IPV6_NETWORK_PREFIX
    network = ipaddress.ip_network(f"{address}/{prefix}", strict=False)
    return str(address), str(network)


# --- other identifiers -----------------------------------------------------------------

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


def normalize_address(address) -> str:
    """One comparable string for a postal address given as text or as an object."""
    if isinstance(address, dict):
        parts = [str(v) for k, v in sorted(address.items()) if v and k != "name"]
        address = " ".join(parts)
    text = unicodedata.normalize("NFKC", str(address or "")).lower()
    text = re.sub(r"[^\w\s]", " ", text)
    words = [_ADDRESS_ABBREVIATIONS.get(w, w) for w in text.split()]
    return " ".join(words)


# --- keyed hashes ----------------------------------------------------------------------


def keyed_hash(kind: str, value: str) -> str:
    """HMAC-SHA256 of `kind:value` with IDENTITY_HMAC_KEY; '' for an empty value."""
    if not value:
        return ""
    key = str(settings.IDENTITY_HMAC_KEY).encode()
    return hmac.new(key, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()


def email_hash(value: str) -> str:
    return keyed_hash("email", email_match_key(value))


def phone_hash(value: str) -> str:
    """The hash of a phone number in any format (E.164 when it is a valid number)."""
    return keyed_hash("phone", phone_match_key(value))


def ip_hashes(ip: str | None) -> tuple[str, str]:
    """Keyed hashes of the full address and of its network (`normalize_ip`)."""
    if not ip:
        return "", ""
    return _ip_hashes(str(ip), str(settings.IDENTITY_HMAC_KEY))


@lru_cache(maxsize=8192)  # the redirect's hot path: repeat visitors skip two HMACs
def _ip_hashes(ip: str, _key: str) -> tuple[str, str]:
    address, network = normalize_ip(ip)
    return keyed_hash("ip", address), keyed_hash("net", network)


def device_hash(device_id: str) -> str:
    return keyed_hash("device", (device_id or "").strip())


def payment_hash(fingerprint: str) -> str:
    return keyed_hash("payment", (fingerprint or "").strip())


def address_hash(address) -> str:
    return keyed_hash("address", normalize_address(address))


def domain_hash(domain: str) -> str:
    return keyed_hash("domain", (domain or "").strip().lower().rstrip("."))


# --- masking ---------------------------------------------------------------------------


def mask_email(email: str) -> str:
    """`l***@gmail.com`: the first letter and the domain."""
    email = (email or "").strip()
    if "@" not in email:
        return ""
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}"


def mask_phone(phone: str) -> str:
    """`+86****5678`: the country prefix and the last four digits."""
    phone = (phone or "").strip()
    return f"{phone[:3]}****{phone[-4:]}" if len(phone) > 7 else ""


def mask(kind: str, value: str) -> str:
    """What a person may see of an identifier: enough to recognise it, not to reuse it.
    `kind` is `email`, `phone`, `name`, `domain` (shown whole: it names a provider or a
    company, not a person) or anything else (device ids, cards, IPs, addresses)."""
    value = (value or "").strip()
    if not value:
        return ""
    if kind == "domain":
        return value.lower()
    if kind == "email" and "@" in value:
        return mask_email(value)
    if kind == "phone" and len(value) > 7:
        return mask_phone(value)
    if kind == "name":
        return f"{value[:1]}***"
    if len(value) <= 4:
        return "****"
    return f"{value[:2]}***{value[-2:]}"


def mask_identity(*, email: str = "", phone: str = "", name: str = "") -> str:
    """A person as someone else may see them, from the first detail there is:
    `l***@gmail.com`, `+86****5678`, `L***`."""
    if email and "@" in email:
        return mask("email", email)
    if phone and len(phone) > 7:
        return mask("phone", phone)
    if name and name.strip():
        return mask("name", name)
    return ""


# --- user agents -----------------------------------------------------------------------

# Link unfurlers of chat apps and social networks, generic crawlers and HTTP libraries.
_BOT = re.compile(
    r"facebookexternalhit|facebot|meta-externalagent|twitterbot|slackbot|slack-imgproxy|"
    r"telegrambot|whatsapp|linkedinbot|discordbot|skypeuripreview|bingpreview|applebot|"
    r"pinterest|redditbot|embedly|vkshare|quora link preview|iframely|googlebot|bingbot|"
    r"baiduspider|bytespider|yandex|duckduckbot|petalbot|sogou|mattermost|viber|line/|"
    r"kakaotalk|bot\b|bot/|crawler|spider|preview|curl/|wget/|python-requests|httpclient|"
    r"okhttp",
    re.IGNORECASE,
)
# Browsers driven by a program.
_HEADLESS = re.compile(
    r"headlesschrome|phantomjs|puppeteer|playwright|selenium|webdriver|slimerjs|electron/",
    re.IGNORECASE,
)
_MOBILE = re.compile(r"mobile|android|iphone|ipad|micromessenger", re.IGNORECASE)

BOT, HEADLESS, MOBILE, BROWSER = "bot", "headless", "mobile", "browser"


@lru_cache(maxsize=4096)  # a handful of browser builds make most traffic
def classify_user_agent(user_agent: str) -> str:
    """`bot` (link previews, crawlers, HTTP libraries, no user agent at all), `headless`,
    `mobile` or `browser`. Clicks store it; fraud reads it."""
    if not user_agent or _BOT.search(user_agent):
        return BOT
    if _HEADLESS.search(user_agent):
        return HEADLESS
    if _MOBILE.search(user_agent):
        return MOBILE
    return BROWSER


# --- ids -------------------------------------------------------------------------------

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
# Two digits (10 bits) at a time: half the steps of a loop over the 26 digits.
_DIGIT_PAIRS = [a + b for a in _CROCKFORD for b in _CROCKFORD]
_PAIR_SHIFTS = tuple(range(120, -1, -10))


_RANDOM_POOL = 4096  # bytes drawn from the OS at a time: one syscall per ~400 ids
_random_bytes = b""
_random_lock = threading.Lock()


def _urandom10() -> bytes:
    """Ten bytes from the OS's CSPRNG, drawn in blocks: a click id must not be guessable, and
    `os.urandom` costs a system call, a large part of a redirect's budget when made per id."""
    global _random_bytes
    with _random_lock:
        if len(_random_bytes) < 10:
            _random_bytes = os.urandom(_RANDOM_POOL)
        out, _random_bytes = _random_bytes[:10], _random_bytes[10:]
    return out


def _forget_random_bytes() -> None:
    # A forked worker must never reuse the bytes its parent drew: drop them in the child.
    global _random_bytes
    _random_bytes = b""


os.register_at_fork(after_in_child=_forget_random_bytes)


def new_ulid(now_ms: int | None = None) -> str:
    """A ULID: 48-bit millisecond time + 80 random bits, Crockford base32, sortable by time.

    Made here, not by the database, so clicks can be buffered and written in bulk."""
    ms = int(time.time() * 1000) if now_ms is None else now_ms
    value = (ms << 80) | int.from_bytes(_urandom10(), "big")
    return "".join([_DIGIT_PAIRS[(value >> shift) & 1023] for shift in _PAIR_SHIFTS])


def is_ulid(value: str) -> bool:
    return len(value) == 26 and all(c in _CROCKFORD for c in value.upper())
