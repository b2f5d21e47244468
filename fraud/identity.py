"""Fraud's names for the identity rules, which live in `referral_platform.core.identity`.

A token is the keyed hash fraud stores in a `Fingerprint` and compares: the same string
tracking stores on participants and clicks, because both call the one module.
"""

from __future__ import annotations

from referral_platform.core.identity import (  # noqa: F401 — re-exported for fraud's callers
    BOT,
    FREE_MAIL_DOMAINS,
    HEADLESS,
    classify_user_agent,
    email_domain,
    ip_hashes,
    is_disposable_domain,
    is_free_mail_domain,
    keyed_hash,
    mask,
)
from referral_platform.core.identity import address_hash as address_token
from referral_platform.core.identity import device_hash as device_token
from referral_platform.core.identity import domain_hash as domain_token
from referral_platform.core.identity import email_hash as email_token
from referral_platform.core.identity import email_match_key as normalise_email
from referral_platform.core.identity import payment_hash as payment_token
from referral_platform.core.identity import phone_hash as phone_token

ip_tokens = ip_hashes

__all__ = [
    "FREE_MAIL_DOMAINS",
    "address_token",
    "device_token",
    "domain_token",
    "email_domain",
    "email_token",
    "ip_tokens",
    "is_disposable_domain",
    "is_free_mail_domain",
    "keyed_hash",
    "mask",
    "normalise_email",
    "payment_token",
    "phone_token",
    "user_agent_class",
]


def user_agent_class(user_agent: str) -> str:
    """Fraud's reading of a user agent: `headless`, `preview` (link unfurlers, crawlers and
    HTTP libraries: nobody looked) or `browser`; '' when there was none."""
    if not user_agent:
        return ""
    found = classify_user_agent(user_agent)
    if found == HEADLESS:
        return "headless"
    if found == BOT:
        return "preview"
    return "browser"
