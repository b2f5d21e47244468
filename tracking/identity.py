"""Tracking's names for the identity rules, which live in `referral_platform.core.identity`
(one set of normalisation, hashing and masking rules for every app)."""

from referral_platform.core.identity import (  # noqa: F401 — re-exported for callers here
    email_domain,
    email_hash,
    email_match_key,
    ip_hashes,
    is_ulid,
    keyed_hash,
    mask_email,
    mask_phone,
    new_ulid,
    normalize_email,
    normalize_phone,
    phone_hash,
)
