"""Referral codes: short, unambiguous, unguessable enough that walking them finds nothing."""

from __future__ import annotations

import re
import secrets

# No 0/O, 1/I/L, 2/Z, 5/S, 8/B: a code read aloud or off a poster survives.
ALPHABET = "34679ACDEFGHJKMNPQRTUVWXY"
DEFAULT_LENGTH = 7
# 25**7 ≈ 6.1e9 codes; with a million issued, a random guess hits one with p ≈ 1.6e-4,
# and the redirect only reveals a display name and the public offer.
VANITY_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{3,19}$")


def generate_code(length: int = DEFAULT_LENGTH) -> str:
    if not 6 <= length <= 8:
        raise ValueError("codes are 6–8 characters")
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


def normalize_code(value: str) -> str:
    return (value or "").strip().upper()


def is_valid_vanity(value: str) -> bool:
    return bool(VANITY_RE.match(value or ""))
