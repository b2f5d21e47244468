"""Shopify webhooks: `X-Shopify-Hmac-Sha256` verified, an order's discount code read as the
referral code, refunds tied back to the order's customer."""

from __future__ import annotations

import pytest

from connectors.models import InboundDelivery
from tracking.models import Event, Referral, ReferralStatus

from .conftest import SHOPIFY_SECRET, dumps, shopify_signature

pytestmark = pytest.mark.django_db

URL = "/hooks/shopify/acme"


def _order(**overrides) -> dict:
    """An `orders/create` body with the fields Shopify's reference documents."""
    order = {
        "id": 820982911946154508,
        "admin_graphql_api_id": "gid://shopify/Order/820982911946154508",
        "name": "#1001",
        "order_number": 1001,
        "email": "carol@example.test",
        "created_at": "2026-05-04T10:00:00+08:00",
        "processed_at": "2026-05-04T10:00:00+08:00",
        "currency": "CNY",
        "financial_status": "paid",
        "total_price": "398.00",
        "current_total_price": "398.00",
        "subtotal_price": "418.00",
        "total_discounts": "20.00",
        "discount_codes": [],
        "customer": {
            "id": 115310627314723954,
            "email": "carol@example.test",
            "first_name": "Carol",
            "orders_count": 1,
        },
        "line_items": [{"id": 866550311766439020, "quantity": 2, "price": "209.00"}],
    }
    order.update(overrides)
    return order


def _refund(**overrides) -> dict:
    refund = {
        "id": 509562969,
        "order_id": 820982911946154508,
        "created_at": "2026-05-06T09:00:00+08:00",
        "note": "wrong size",
        "restock": True,
        "refund_line_items": [],
        "transactions": [
            {
                "id": 389404469,
                "order_id": 820982911946154508,
                "kind": "refund",
                "status": "success",
                "amount": "120.50",
                "currency": "CNY",
            }
        ],
    }
    refund.update(overrides)
    return refund


def _post(client, topic: str, payload: dict, *, secret: str = SHOPIFY_SECRET):
    body = dumps(payload)
    return client.post(
        URL,
        data=body,
        content_type="application/json",
        HTTP_X_SHOPIFY_TOPIC=topic,
        HTTP_X_SHOPIFY_HMAC_SHA256=shopify_signature(body, secret),
        HTTP_X_SHOPIFY_SHOP_DOMAIN="acme.myshopify.com",
        HTTP_X_SHOPIFY_WEBHOOK_ID="b54557e4-bdd9-4b37-8a5f-bf7d70bcd043",
    )


def test_a_first_order_with_the_referrers_code_as_discount_converts_a_referral(
    client, tenant, program, alice_code, shopify_connector, django_capture_on_commit_callbacks
):
    order = _order(discount_codes=[{"code": alice_code, "amount": "20.00", "type": "fixed_amount"}])
    with django_capture_on_commit_callbacks(execute=True):
        response = _post(client, "orders/create", order)
    assert response.status_code == 200
    assert response.json()["event_ids"] == [
        "shopify:signup:115310627314723954",
        "shopify:order:820982911946154508",
    ]
    purchase = Event.objects.for_tenant(tenant).get(type="purchase")
    assert (purchase.amount_minor, purchase.currency, purchase.order_id) == (
        39800,
        "CNY",
        "820982911946154508",
    )
    assert purchase.external_id == "shopify:115310627314723954"
    assert purchase.payload["properties"] == {
        "source": "shopify",
        "order_name": "#1001",
        "first_order": True,
        "discount_code": alice_code,
    }
    referral = Referral.objects.for_tenant(tenant).get()
    assert referral.referrer.external_id == "u-alice"
    assert referral.referee.external_id == "shopify:115310627314723954"
    assert referral.status == ReferralStatus.CONVERTED


def test_a_customer_known_by_email_keeps_their_external_id(client, tenant, shopify_connector):
    from tracking import services as tracking_services

    tracking_services.participant_upsert(
        tenant=tenant, external_id="crm-9", email="carol@example.test"
    )
    _post(client, "orders/create", _order())
    assert set(Event.objects.for_tenant(tenant).values_list("external_id", flat=True)) == {"crm-9"}


def test_a_second_order_is_a_purchase_without_another_sign_up(client, tenant, shopify_connector):
    assert _post(client, "orders/create", _order()).json()["status"] == "accepted"
    second = _order(
        id=820982911946154999,
        name="#1002",
        created_at="2026-06-01T10:00:00+08:00",
        customer={**_order()["customer"], "orders_count": 2},
    )
    response = _post(client, "orders/create", second)
    assert response.json()["status"] == "accepted"
    assert response.json()["event_ids"] == ["shopify:order:820982911946154999"]
    types = sorted(Event.objects.for_tenant(tenant).values_list("type", flat=True))
    assert types == ["purchase", "purchase", "signup"]
    assert (
        Event.objects.for_tenant(tenant)
        .get(order_id="820982911946154999")
        .payload["properties"]["first_order"]
        is False
    )


def test_a_retried_order_is_a_duplicate(client, tenant, shopify_connector):
    _post(client, "orders/create", _order())
    assert _post(client, "orders/create", _order()).json()["status"] == "duplicate"
    assert Event.objects.for_tenant(tenant).count() == 2


def test_a_refund_reaches_the_orders_customer_with_its_amount(client, tenant, shopify_connector):
    _post(client, "orders/create", _order())
    response = _post(client, "refunds/create", _refund())
    assert response.json()["status"] == "accepted"
    refund = Event.objects.for_tenant(tenant).get(type="refund")
    assert (refund.event_id, refund.external_id, refund.order_id) == (
        "shopify:refund:509562969",
        "shopify:115310627314723954",
        "820982911946154508",
    )
    assert (refund.amount_minor, refund.currency) == (12050, "CNY")


def test_a_refund_of_an_order_never_received_is_ignored_and_logged(
    client, tenant, shopify_connector
):
    response = _post(client, "refunds/create", _refund())
    assert response.status_code == 200
    assert response.json()["status"] == "ignored"
    assert InboundDelivery.objects.for_tenant(tenant).get().detail == (
        "Order 820982911946154508 was never received: no participant to refund."
    )


def test_a_bad_hmac_is_400_and_stores_nothing(client, tenant, shopify_connector):
    response = _post(client, "orders/create", _order(), secret="another-apps-secret")
    assert response.status_code == 400
    assert Event.objects.for_tenant(tenant).count() == 0
    assert InboundDelivery.objects.for_tenant(tenant).count() == 0


def test_an_unknown_topic_is_acknowledged_and_logged(client, tenant, shopify_connector):
    response = _post(client, "customers/create", {"id": 1, "email": "x@example.test"})
    assert response.status_code == 200
    delivery = InboundDelivery.objects.for_tenant(tenant).get()
    assert (delivery.outcome, delivery.provider_type) == ("ignored", "customers/create")
