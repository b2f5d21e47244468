"""Shopify webhooks (`orders/create`, `refunds/create`) → our events, verified by
`X-Shopify-Hmac-Sha256` (base64 HMAC-SHA256 of the raw body with the app's client secret).
The order's discount code is the referral code: a customer's first order carries a sign-up
with that code, then the purchase."""

from __future__ import annotations

import base64
import json
from decimal import Decimal, InvalidOperation

from referral_platform.core.money import to_minor

from .. import selectors
from ..inbound import SHA256, Mapped, hmac_matches, resolve_external_id

CUSTOMER = "shopify_customer"
ORDER = "shopify_order"


class Refused(Exception):
    pass


def verify(*, body: bytes, header: str | None, secret: str) -> dict:
    if not hmac_matches(
        header or "", secret, body, SHA256, lambda raw: base64.b64encode(raw).decode()
    ):
        raise Refused("X-Shopify-Hmac-Sha256 does not match the client secret.")
    try:
        payload = json.loads(body)
    except ValueError:
        raise Refused("The body is not JSON.") from None
    if not isinstance(payload, dict):
        raise Refused("The body is not a Shopify resource.")
    return payload


def _minor(value, currency: str) -> int | None:
    try:
        return to_minor(Decimal(str(value)), currency)
    except (InvalidOperation, ValueError, TypeError, KeyError):
        return None


def _order_created(tenant, order: dict) -> Mapped:
    mapped = Mapped(provider_id=str(order.get("id") or ""))
    customer = order.get("customer") or {}
    customer_id = str(customer.get("id") or "")
    email = order.get("email") or customer.get("email") or ""
    external_id = resolve_external_id(
        tenant=tenant, email=email, ref_kind=CUSTOMER, ref=customer_id
    )
    if not external_id:
        mapped.ignored = "No participant: the order has no customer and no email."
        return mapped
    order_id = str(order.get("id") or "")
    currency = (order.get("currency") or "").upper()
    amount = _minor(order.get("current_total_price") or order.get("total_price"), currency)
    if amount is None:
        mapped.ignored = "The order has no readable total."
        return mapped
    person = {"external_id": external_id, **({"email": email} if email else {})}
    at = order.get("created_at") or order.get("processed_at")
    mapped.refs = [(ORDER, order_id, external_id)]
    if customer_id:
        mapped.refs.append((CUSTOMER, customer_id, external_id))
    codes = [d.get("code") for d in order.get("discount_codes") or [] if d.get("code")]
    orders_count = customer.get("orders_count")
    first = orders_count in (None, 0, 1)
    if first:
        # One sign-up per customer, however many orders: a later order's sign-up under the
        # same event_id is "already known", not a conflict.
        signup_id = f"shopify:signup:{customer_id or external_id}"
        mapped.events.append(
            {
                "event_id": signup_id,
                "type": "signup",
                "occurred_at": at,
                "participant": person,
                **({"referral": {"code": codes[0]}} if codes else {}),
            }
        )
        mapped.once_only.add(signup_id)
    properties = {"source": "shopify", "order_name": str(order.get("name") or "")}
    if orders_count is not None:
        properties["first_order"] = orders_count <= 1
    if codes:
        properties["discount_code"] = codes[0]
    mapped.events.append(
        {
            "event_id": f"shopify:order:{order_id}",
            "type": "purchase",
            "occurred_at": at,
            "participant": person,
            "order_id": order_id,
            "amount": {"amount_minor": amount, "currency": currency},
            "properties": properties,
        }
    )
    return mapped


def _refund_created(tenant, refund: dict) -> Mapped:
    mapped = Mapped(provider_id=str(refund.get("id") or ""))
    order_id = str(refund.get("order_id") or "")
    external_id = selectors.external_ref_get(tenant=tenant, kind=ORDER, ref=order_id)
    if not external_id:
        mapped.ignored = f"Order {order_id} was never received: no participant to refund."
        return mapped
    total, currency = 0, ""
    for txn in refund.get("transactions") or []:
        if txn.get("kind") == "refund" and txn.get("status") == "success":
            currency = (txn.get("currency") or currency).upper()
            total += _minor(txn.get("amount"), currency) or 0
    if total <= 0:
        mapped.ignored = "The refund moved no money (a restock only)."
        return mapped
    mapped.events.append(
        {
            "event_id": f"shopify:refund:{refund.get('id')}",
            "type": "refund",
            "occurred_at": refund.get("created_at") or refund.get("processed_at"),
            "participant": {"external_id": external_id},
            "order_id": order_id,
            "amount": {"amount_minor": total, "currency": currency},
            "properties": {"source": "shopify"},
        }
    )
    return mapped


HANDLERS = {"orders/create": _order_created, "refunds/create": _refund_created}


def map_topic(tenant, topic: str, payload: dict) -> Mapped:
    handler = HANDLERS.get(topic)
    if handler is None:
        mapped = Mapped(ignored=f"Topic {topic!r} is not one we read.")
    else:
        mapped = handler(tenant, payload)
    mapped.provider_type = topic
    return mapped
