"""Stripe Connect transfers through the official library: one transfer per payout to the
participant's connected account (`attributes.stripe_account`), the payout's key as
Stripe's `Idempotency-Key`. A transfer is settled when Stripe answers, so there is nothing
to poll; a timeout is retried with the same key and Stripe answers with the first transfer."""

from __future__ import annotations

import stripe
from django.conf import settings

from .base import Adapter, Result, timeout


class StripeConnectAdapter(Adapter):
    kind = "stripe_connect"

    def _client(self) -> stripe.StripeClient:
        base = getattr(settings, "CONNECTORS_STRIPE_API_BASE", "")
        return stripe.StripeClient(
            self.provider.api_key,
            base_addresses={"api": base} if base else None,
            # Our sweep retries with the same key; the library must not retry on its own.
            max_network_retries=0,
            http_client=stripe.RequestsClient(timeout=timeout()),
        )

    def destination(self, participant) -> str:
        return str((participant.attributes or {}).get("stripe_account") or "")

    def send(
        self, *, key: str, amount_minor: int, currency: str, destination: str, note: str
    ) -> Result:
        try:
            transfer = self._client().v1.transfers.create(
                {
                    "amount": amount_minor,
                    "currency": currency.lower(),
                    "destination": destination,
                    "transfer_group": key,
                    "description": note[:350],
                    "metadata": {"payout": key},
                },
                {"idempotency_key": key},
            )
        except (stripe.APIConnectionError, stripe.RateLimitError) as exc:
            return Result("retry", reason=str(exc.user_message or exc)[:300])
        except stripe.APIError as exc:  # 5xx
            return Result("retry", reason=str(exc.user_message or exc)[:300])
        except stripe.StripeError as exc:
            return Result("failed", reason=str(exc.user_message or exc)[:300])
        if getattr(transfer, "reversed", False):
            return Result("failed", ref=transfer.id, reason="The transfer was reversed.")
        return Result("paid", ref=transfer.id)

    def poll(self, *, key: str, ref: str) -> Result:
        try:
            transfer = self._client().v1.transfers.retrieve(ref)
        except (stripe.APIConnectionError, stripe.RateLimitError, stripe.APIError) as exc:
            return Result("retry", reason=str(exc.user_message or exc)[:300])
        if getattr(transfer, "reversed", False):
            return Result("failed", ref=ref, reason="The transfer was reversed.")
        return Result("paid", ref=ref)
