"""Signed, short-lived tokens that open the portal as one participant.

A token names the tenant, the participant and its purpose, and is signed with a salt per
purpose, so a magic-link token cannot be replayed as a portal session and neither means
anything to another part of the product. Nothing is stored: expiry is the signature's age.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core import signing

from referral_platform.core import clock

SESSION = "session"  # minted by the tenant's backend: POST /api/v1/portal-sessions
MAGIC_LINK = "magic"  # mailed to a customer who asked at /portal/login/

# A session link is minted when the tenant renders its page, and the customer clicks it
# within minutes; a mailed link has to survive a slow inbox.
MAX_AGE = {
    SESSION: getattr(settings, "PORTAL_SESSION_MAX_AGE", 15 * 60),
    MAGIC_LINK: getattr(settings, "PORTAL_MAGIC_LINK_MAX_AGE", 30 * 60),
}


class TokenInvalid(Exception):
    """Tampered, truncated, or minted for another purpose."""


class TokenExpired(Exception):
    def __init__(self, return_url: str = ""):
        super().__init__("expired")
        self.return_url = return_url


@dataclass(frozen=True)
class PortalClaim:
    tenant_id: int
    participant_id: int
    purpose: str
    return_url: str
    nonce: str = ""


def _salt(purpose: str) -> str:
    # The salt predates the move out of tracking/: changing it would void every link and
    # session already handed out.
    return f"tracking.portal.{purpose}"


def token_make(
    *, tenant_id: int, participant_id: int, purpose: str, return_url: str = "", nonce: str = ""
) -> tuple[str, datetime]:
    """The token and when it stops working."""
    payload = {"t": tenant_id, "p": participant_id, "u": purpose, "r": return_url}
    if nonce:
        payload["n"] = nonce
    token = signing.dumps(payload, salt=_salt(purpose), compress=True)
    return token, clock.now() + timedelta(seconds=MAX_AGE[purpose])


def token_read(token: str, *, purpose: str) -> PortalClaim:
    signer = signing.TimestampSigner(salt=_salt(purpose))
    try:
        signer.unsign(token, max_age=MAX_AGE[purpose])
    except signing.SignatureExpired:
        # The signature is good, only old: read the return URL so the page can send the
        # customer back to the tenant's site to get a fresh link.
        raise TokenExpired(_unverified_return_url(token, purpose)) from None
    except signing.BadSignature:
        raise TokenInvalid() from None
    try:
        payload = signing.loads(token, salt=_salt(purpose))
    except signing.BadSignature:
        raise TokenInvalid() from None
    if payload.get("u") != purpose:
        raise TokenInvalid()
    return PortalClaim(
        tenant_id=int(payload["t"]),
        participant_id=int(payload["p"]),
        purpose=purpose,
        return_url=str(payload.get("r") or ""),
        nonce=str(payload.get("n") or ""),
    )


def _unverified_return_url(token: str, purpose: str) -> str:
    # Only called once the signature was verified (it failed on age alone).
    try:
        payload = signing.loads(token, salt=_salt(purpose), max_age=None)
    except signing.BadSignature:
        return ""
    url = str(payload.get("r") or "")
    return url if url.startswith(("https://", "http://")) else ""
