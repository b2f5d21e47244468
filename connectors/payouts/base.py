"""The adapter interface every payout provider implements."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Status = Literal["paid", "pending", "failed", "retry"]

# Seconds to wait for a provider's answer; past it the attempt is retried with the same key.
TIMEOUT = 20


def timeout() -> float:
    from django.conf import settings

    return getattr(settings, "CONNECTORS_PAYOUT_TIMEOUT", TIMEOUT)


@dataclass(frozen=True)
class Result:
    """`paid` (settled, with the provider's id), `pending` (accepted; poll later), `failed`
    (a refusal that sending again cannot change, with the reason) or `retry` (no answer, a
    timeout, 429 or 5xx: send again with the same idempotency key)."""

    status: Status
    ref: str = ""
    reason: str = ""


class Adapter:
    kind = ""
    # Whether payouts leave through the provider's API (the CSV batch is paid by a person).
    automatic = True

    def __init__(self, provider) -> None:
        self.provider = provider

    def destination(self, participant) -> str:
        """Where this participant is paid, or "" when they have not said."""
        raise NotImplementedError

    def send(
        self, *, key: str, amount_minor: int, currency: str, destination: str, note: str
    ) -> Result:
        raise NotImplementedError

    def poll(self, *, key: str, ref: str) -> Result:
        raise NotImplementedError
