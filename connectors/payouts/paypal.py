"""PayPal Payouts. The official server SDK (`paypal-server-sdk`) authenticates (OAuth 2
client credentials); it has no Payouts controller, so the Payouts call itself is a plain
POST with the SDK's token. One batch per payout, `sender_batch_id` and `PayPal-Request-Id`
both the payout's key, so a retry after a timeout gets the first batch back. PayPal settles
later: the batch is polled until its item is SUCCESS or a failure."""

from __future__ import annotations

import requests
from django.conf import settings
from paypalserversdk.configuration import Configuration, Environment, Server
from paypalserversdk.exceptions.api_exception import ApiException
from paypalserversdk.http.auth.o_auth_2 import ClientCredentialsAuthCredentials
from paypalserversdk.paypal_serversdk_client import PaypalServersdkClient

from referral_platform.core.money import to_major

from .base import Adapter, Result, timeout

# Item states that end in money paid, money not paid, or a wait.
PAID = {"SUCCESS"}
FAILED = {"FAILED", "RETURNED", "BLOCKED", "REFUNDED", "REVERSED", "DENIED"}
RETRYABLE = {429, 500, 502, 503, 504}


class _Configuration(Configuration):
    """The SDK's configuration with the API base taken from our settings, so tests can point
    it at a local fake."""

    base = ""

    def get_base_uri(self, server=Server.DEFAULT):
        return self.base or super().get_base_uri(server)


class PaypalAdapter(Adapter):
    kind = "paypal"

    def _base(self) -> str:
        override = getattr(settings, "CONNECTORS_PAYPAL_API_BASE", "")
        if override:
            return override
        env = Environment.PRODUCTION if self.provider.live else Environment.SANDBOX
        return Configuration.environments[env][Server.DEFAULT]

    def _token(self) -> str:
        config = _Configuration(
            timeout=timeout(),
            environment=Environment.PRODUCTION if self.provider.live else Environment.SANDBOX,
            client_credentials_auth_credentials=ClientCredentialsAuthCredentials(
                o_auth_client_id=self.provider.client_id,
                o_auth_client_secret=self.provider.client_secret,
            ),
        )
        config.base = getattr(settings, "CONNECTORS_PAYPAL_API_BASE", "")
        client = PaypalServersdkClient(config=config)
        return client.oauth_2.fetch_token().access_token

    def destination(self, participant) -> str:
        return str((participant.attributes or {}).get("paypal_email") or participant.email or "")

    def _call(self, method: str, path: str, **kwargs) -> Result | dict:
        try:
            token = self._token()
            response = requests.request(
                method,
                self._base() + path,
                headers={"Authorization": f"Bearer {token}", **kwargs.pop("headers", {})},
                timeout=timeout(),
                **kwargs,
            )
        except requests.RequestException as exc:
            return Result("retry", reason=f"No answer from PayPal: {exc.__class__.__name__}")
        except ApiException as exc:
            if getattr(exc, "response_code", None) in RETRYABLE:
                return Result("retry", reason=str(exc)[:300])
            return Result("failed", reason=f"PayPal refused the credentials: {exc}"[:300])
        if response.status_code in RETRYABLE:
            return Result("retry", reason=f"PayPal answered {response.status_code}.")
        try:
            body = response.json()
        except ValueError:
            body = {}
        if response.status_code >= 400:
            message = body.get("message") or body.get("name") or response.reason
            return Result("failed", reason=f"PayPal refused the payout: {message}"[:300])
        return body

    def send(
        self, *, key: str, amount_minor: int, currency: str, destination: str, note: str
    ) -> Result:
        body = {
            "sender_batch_header": {
                "sender_batch_id": key,
                "recipient_type": "EMAIL",
                "email_subject": note[:255],
            },
            "items": [
                {
                    "recipient_type": "EMAIL",
                    "receiver": destination,
                    "sender_item_id": key,
                    "note": note[:4000],
                    "amount": {
                        "value": str(to_major(amount_minor, currency)),
                        "currency": currency,
                    },
                }
            ],
        }
        answer = self._call(
            "POST", "/v1/payments/payouts", json=body, headers={"PayPal-Request-Id": key}
        )
        if isinstance(answer, Result):
            return answer
        batch_id = (answer.get("batch_header") or {}).get("payout_batch_id") or ""
        if not batch_id:
            return Result("retry", reason="PayPal's answer had no payout_batch_id.")
        return Result("pending", ref=batch_id)

    def poll(self, *, key: str, ref: str) -> Result:
        answer = self._call("GET", f"/v1/payments/payouts/{ref}")
        if isinstance(answer, Result):
            # A refusal to show the batch changes nothing about the money: ask again later.
            return Result("retry", ref=ref, reason=answer.reason)
        items = answer.get("items") or []
        state = (items[0].get("transaction_status") if items else "") or ""
        if state in PAID:
            return Result("paid", ref=ref)
        if state in FAILED:
            errors = items[0].get("errors") or {}
            reason = errors.get("message") or errors.get("name") or state
            return Result("failed", ref=ref, reason=f"PayPal: {reason}"[:300])
        return Result("pending", ref=ref)
