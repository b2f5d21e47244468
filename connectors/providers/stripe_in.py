"""Stripe webhooks → our events. Verified with the official library (the `Stripe-Signature`
header, the endpoint secret, a tolerance on its timestamp); the Stripe event id is the
`event_id`, so Stripe's retries of one event are duplicates, never a second purchase."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import stripe
from django.conf import settings

from .. import selectors
from ..inbound import Mapped, resolve_external_id

CUSTOMER = "stripe_customer"
# Stripe's own default: a signature older than five minutes is a replay.
DEFAULT_TOLERANCE = 300

INTERVALS = {"month": "monthly", "year": "annual"}


class Refused(Exception):
    pass


def verify(*, body: bytes, header: str | None, secret: str) -> dict:
    """The event as a dict, or Refused with the reason."""
    tolerance = getattr(settings, "CONNECTORS_STRIPE_TOLERANCE", DEFAULT_TOLERANCE)
    try:
        stripe.WebhookSignature.verify_header(body, header, secret, tolerance)
    except stripe.SignatureVerificationError as exc:
        raise Refused(str(exc.user_message or exc)) from None
    try:
        event = json.loads(body)
    except ValueError:
        raise Refused("The body is not JSON.") from None
    if not isinstance(event, dict) or not isinstance(event.get("data"), dict):
        raise Refused("The body is not a Stripe event.")
    return event


def _at(unix: int | None) -> str:
    return datetime.fromtimestamp(int(unix or 0), tz=UTC).isoformat()


def _person(tenant, obj: dict, email: str, metadata: dict | None) -> tuple[dict, list]:
    customer = obj.get("customer") or ""
    if isinstance(customer, dict):  # expanded
        customer = customer.get("id") or ""
    external_id = resolve_external_id(
        tenant=tenant,
        external_id=str((metadata or {}).get("external_id") or ""),
        email=email or "",
        ref_kind=CUSTOMER,
        ref=customer,
    )
    person = {"external_id": external_id}
    if email:
        person["email"] = email
    refs = [(CUSTOMER, customer, external_id)] if customer and external_id else []
    return person, refs


def _body(event: dict, type_: str, person: dict, **extra) -> dict:
    return {
        "event_id": event["id"],
        "type": type_,
        "occurred_at": _at(event.get("created")),
        "participant": person,
        **extra,
    }


def _referral(metadata: dict) -> dict:
    ref = {}
    if metadata.get("referral_code"):
        ref["code"] = str(metadata["referral_code"])
    if metadata.get("click_id"):
        ref["click_id"] = str(metadata["click_id"])
    return ref


def _checkout_completed(tenant, event: dict, obj: dict) -> Mapped:
    mapped = Mapped()
    if obj.get("mode") == "subscription":
        mapped.ignored = "A subscription's first payment arrives as invoice.paid."
        return mapped
    if obj.get("payment_status") not in ("paid", "no_payment_required"):
        mapped.ignored = f"Payment status {obj.get('payment_status')!r}: not paid yet."
        return mapped
    metadata = obj.get("metadata") or {}
    details = obj.get("customer_details") or {}
    email = details.get("email") or obj.get("customer_email") or ""
    person, mapped.refs = _person(tenant, obj, email, metadata)
    if not person["external_id"]:
        mapped.ignored = "No participant: the customer has no metadata external_id or email."
        return mapped
    referral = _referral(metadata)
    if referral:
        # The referred buyer's sign-up carries the code (Checkout's metadata) for attribution.
        mapped.events.append(
            _body(event, "signup", person, referral=referral)
            | {"event_id": f"{event['id']}:signup"}
        )
    mapped.events.append(
        _body(
            event,
            "purchase",
            person,
            order_id=obj.get("payment_intent") or obj.get("id") or "",
            amount={
                "amount_minor": obj.get("amount_total") or 0,
                "currency": (obj.get("currency") or "").upper(),
            },
            properties={"renewal": False, "source": "stripe"},
        )
    )
    return mapped


def _invoice_paid(tenant, event: dict, obj: dict) -> Mapped:
    mapped = Mapped()
    if not obj.get("amount_paid"):
        mapped.ignored = "Nothing was paid (a trial or a zero invoice)."
        return mapped
    # The subscription's metadata: top level up to API 2025-03, under `parent` after.
    details = obj.get("subscription_details") or (obj.get("parent") or {}).get(
        "subscription_details"
    )
    metadata = dict((details or {}).get("metadata") or {})
    metadata.update(obj.get("metadata") or {})
    person, mapped.refs = _person(tenant, obj, obj.get("customer_email") or "", metadata)
    if not person["external_id"]:
        mapped.ignored = "No participant: the customer has no metadata external_id or email."
        return mapped
    first = obj.get("billing_reason") == "subscription_create"
    properties = {"first_order": first, "renewal": not first, "source": "stripe"}
    lines = (obj.get("lines") or {}).get("data") or []
    if lines:
        recurring = ((lines[0].get("price") or {}).get("recurring")) or {}
        if recurring.get("interval") in INTERVALS:
            properties["billing_period"] = INTERVALS[recurring["interval"]]
        if lines[0].get("quantity"):
            properties["seats"] = lines[0]["quantity"]
    referral = _referral(metadata) if first else {}
    if referral:
        mapped.events.append(
            _body(event, "signup", person, referral=referral)
            | {"event_id": f"{event['id']}:signup"}
        )
    mapped.events.append(
        _body(
            event,
            "purchase",
            person,
            order_id=obj.get("id") or "",
            amount={
                "amount_minor": obj["amount_paid"],
                "currency": (obj.get("currency") or "").upper(),
            },
            properties=properties,
        )
    )
    return mapped


def _charge_refunded(tenant, event: dict, obj: dict) -> Mapped:
    mapped = Mapped()
    billing = obj.get("billing_details") or {}
    email = billing.get("email") or obj.get("receipt_email") or ""
    person, mapped.refs = _person(tenant, obj, email, obj.get("metadata"))
    if not person["external_id"]:
        mapped.ignored = "No participant: the customer has no metadata external_id or email."
        return mapped
    order_id = obj.get("invoice") or obj.get("payment_intent") or obj.get("id") or ""
    # Stripe reports the charge's refunded total; ours is one event per refund, so this
    # refund is what the total adds to the refunds already recorded for the order.
    # A retry repeats what the first delivery recorded, whatever came in between.
    amount = selectors.event_amount(tenant=tenant, event_id=event["id"])
    if amount is None:
        amount = int(obj.get("amount_refunded") or 0) - selectors.refunded_before(
            tenant=tenant, order_id=order_id, excluding_event_id=event["id"]
        )
    if amount <= 0:
        mapped.ignored = "The refunded total was recorded already."
        return mapped
    mapped.events.append(
        _body(
            event,
            "refund",
            person,
            order_id=order_id,
            amount={"amount_minor": amount, "currency": (obj.get("currency") or "").upper()},
            properties={"source": "stripe"},
        )
    )
    return mapped


def _subscription_deleted(tenant, event: dict, obj: dict) -> Mapped:
    mapped = Mapped()
    person, mapped.refs = _person(tenant, obj, "", obj.get("metadata"))
    if not person["external_id"]:
        mapped.ignored = "No participant: the customer has no metadata external_id or email."
        return mapped
    # A cancellation is an activity of kind subscription_cancelled (SEMANTICS §6).
    mapped.events.append(
        _body(
            event,
            "activity",
            person,
            order_id=obj.get("id") or "",
            properties={"kind": "subscription_cancelled", "source": "stripe"},
        )
    )
    return mapped


HANDLERS = {
    "checkout.session.completed": _checkout_completed,
    "invoice.paid": _invoice_paid,
    "charge.refunded": _charge_refunded,
    "customer.subscription.deleted": _subscription_deleted,
}


def map_event(tenant, event: dict) -> Mapped:
    handler = HANDLERS.get(event.get("type") or "")
    obj = (event.get("data") or {}).get("object") or {}
    if handler is None:
        mapped = Mapped(ignored=f"Event type {event.get('type')!r} is not one we read.")
    else:
        mapped = handler(tenant, event, obj)
    mapped.provider_id = str(event.get("id") or "")
    mapped.provider_type = str(event.get("type") or "")
    return mapped
