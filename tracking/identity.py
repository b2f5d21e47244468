"""Normalising and hashing the identifiers we match on (SEMANTICS §8).

Matching uses a keyed HMAC of the normalised value: a plain hash of a phone number is
reversible by enumerating the number space, a keyed one is not without the key.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import os
import time
from functools import lru_cache

import phonenumbers
from django.conf import settings

# Providers that ignore dots in the local part and deliver `name+tag@` to `name@`.
_GMAIL_DOMAINS = {"gmail.com", "googlemail.com"}
# Providers that deliver `name+tag@` to `name@` but keep dots significant.
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

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def normalize_email(value: str) -> str:
    """Lower-cased and trimmed: what we keep for display and notifications."""
    return (value or "").strip().lower()


def email_match_key(value: str) -> str:
    """The form two addresses of one mailbox share: Gmail dots and `+tags` folded."""
    email = normalize_email(value)
    if "@" not in email:
        return email
    local, _, domain = email.rpartition("@")
    if domain == "googlemail.com":
        domain = "gmail.com"
    if domain in _GMAIL_DOMAINS:
        local = local.split("+", 1)[0].replace(".", "")
    elif domain in _PLUS_TAG_DOMAINS:
        local = local.split("+", 1)[0]
    return f"{local}@{domain}"


def email_domain(value: str) -> str:
    email = normalize_email(value)
    return email.rpartition("@")[2] if "@" in email else ""


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


def keyed_hash(kind: str, value: str) -> str:
    """HMAC-SHA256 of `kind:value` with IDENTITY_HMAC_KEY; '' for an empty value."""
    if not value:
        return ""
    key = settings.IDENTITY_HMAC_KEY.encode()
    return hmac.new(key, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()


def email_hash(value: str) -> str:
    return keyed_hash("email", email_match_key(value))


def phone_hash(e164: str) -> str:
    return keyed_hash("phone", e164)


def ip_hashes(ip: str | None) -> tuple[str, str]:
    """Keyed hashes of the full address and of its /24 (IPv4) or /48 (IPv6)."""
    if not ip:
        return "", ""
    return _ip_hashes(ip, settings.IDENTITY_HMAC_KEY)


@lru_cache(maxsize=8192)  # the redirect's hot path: repeat visitors skip two HMACs
def _ip_hashes(ip: str, _key: str) -> tuple[str, str]:
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return "", ""
    prefix = 24 if address.version == 4 else 48
    network = ipaddress.ip_network(f"{address}/{prefix}", strict=False)
    return keyed_hash("ip", str(address)), keyed_hash("net", str(network))


def mask_email(email: str) -> str:
    if "@" not in email:
        return ""
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}"


def mask_phone(phone: str) -> str:
    return f"{phone[:3]}****{phone[-4:]}" if len(phone) > 7 else ""


def new_ulid(now_ms: int | None = None) -> str:
    """A ULID: 48-bit millisecond time + 80 random bits, Crockford base32, sortable by time.

    Made here, not by the database, so clicks can be buffered and written in bulk."""
    ms = int(time.time() * 1000) if now_ms is None else now_ms
    value = (ms << 80) | int.from_bytes(os.urandom(10), "big")
    chars = []
    for _ in range(26):
        chars.append(_CROCKFORD[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def is_ulid(value: str) -> bool:
    return len(value) == 26 and all(c in _CROCKFORD for c in value.upper())
