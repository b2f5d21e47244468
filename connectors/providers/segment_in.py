"""Segment's `track` and `identify` calls → our events and participants. Segment's Webhooks
destination signs the body with the shared secret (`X-Signature`: hex HMAC-SHA1); the
tenant's API key authenticates the call. Track names map to our types per the connector's
mapping; an unmapped name is acknowledged and logged."""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation

from referral_platform.core.money import to_minor
from tracking.models import EventType

from ..inbound import SHA1, Mapped, hex_digest, hmac_matches

# Segment's e-commerce and B2B SaaS spec names.
DEFAULT_MAPPING = {
    "Signed Up": "signup",
    "Order Completed": "purchase",
    "Order Refunded": "refund",
}
TYPES = [c for c, _ in EventType.choices]
# Properties that become our event's own fields rather than free properties.
_LIFTED = {"order_id", "total", "revenue", "value", "currency", "referral_code", "click_id"}


class Refused(Exception):
    pass


def verify(*, body: bytes, header: str | None, secret: str) -> dict:
    if not hmac_matches(header or "", secret, body, SHA1, hex_digest):
        raise Refused("X-Signature does not match the shared secret.")
    try:
        payload = json.loads(body)
    except ValueError:
        raise Refused("The body is not JSON.") from None
    if not isinstance(payload, dict):
        raise Refused("The body is not a Segment call.")
    return payload


def _amount(properties: dict, default_currency: str) -> dict | None:
    for name in ("total", "revenue", "value"):
        if properties.get(name) is not None:
            currency = str(properties.get("currency") or default_currency).upper()
            try:
                return {
                    "amount_minor": to_minor(Decimal(str(properties[name])), currency),
                    "currency": currency,
                }
            except (InvalidOperation, ValueError):
                return None
    return None


def identify_fields(call: dict) -> dict:
    traits = call.get("traits") or (call.get("context") or {}).get("traits") or {}
    fields = {"external_id": str(call.get("userId") or "")}
    for name in ("email", "phone", "name"):
        if traits.get(name):
            fields[name] = str(traits[name])
    return fields


def map_track(call: dict, *, mapping: dict, default_currency: str) -> Mapped:
    name = str(call.get("event") or "")
    mapped = Mapped(provider_id=str(call.get("messageId") or ""), provider_type=f"track:{name}")
    our_type = mapping.get(name)
    if our_type not in TYPES:
        mapped.ignored = f"Track event {name!r} is not mapped to one of ours."
        return mapped
    user_id = str(call.get("userId") or "")
    if not user_id:
        mapped.ignored = "An anonymous call (no userId): no participant to credit."
        return mapped
    context = call.get("context") or {}
    properties = dict(call.get("properties") or {})
    person = {"external_id": user_id}
    email = (context.get("traits") or {}).get("email")
    if email:
        person["email"] = str(email)
    body = {
        "event_id": f"segment:{mapped.provider_id}",
        "type": our_type,
        "occurred_at": call.get("timestamp") or call.get("originalTimestamp"),
        "participant": person,
    }
    referral = {
        key: str(properties[name])
        for key, name in (("code", "referral_code"), ("click_id", "click_id"))
        if properties.get(name)
    }
    if referral:
        body["referral"] = referral
    if properties.get("order_id"):
        body["order_id"] = str(properties["order_id"])
    amount = _amount(properties, default_currency)
    if amount:
        body["amount"] = amount
    ctx = {}
    if context.get("ip"):
        ctx["ip"] = context["ip"]
    if context.get("userAgent"):
        ctx["user_agent"] = str(context["userAgent"])[:500]
    if ctx:
        body["context"] = ctx
    rest = {k: v for k, v in properties.items() if k not in _LIFTED}
    if rest:
        body["properties"] = rest
    mapped.events.append(body)
    return mapped


def mapping_parse(text: str) -> tuple[dict, list[str]]:
    """`Segment name = our type` per line → (mapping, errors in words)."""
    mapping, errors = {}, []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        name, sep, our = line.rpartition("=")
        name, our = name.strip(), our.strip()
        if not sep or not name or our not in TYPES:
            errors.append(f"{number}: {line}")
            continue
        mapping[name] = our
    return mapping, errors


def mapping_text(mapping: dict) -> str:
    return "\n".join(f"{name} = {our}" for name, our in mapping.items())
