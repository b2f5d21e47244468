"""Stripe webhooks: verified with Stripe's scheme, mapped to our events, the Stripe event id
as the event_id (a retry is a duplicate), and every delivery logged with its outcome."""

from __future__ import annotations

import time

import pytest

from connectors.models import Connector, InboundDelivery
from tracking.models import Event, Referral, ReferralStatus

from .conftest import dumps, post_stripe, stripe_signature

pytestmark = pytest.mark.django_db

URL = "/hooks/stripe/acme"
# A retry carries the event exactly as first sent, `created` included.
CREATED = int(time.time()) - 60


def _event(type_: str, obj: dict, *, evt: str = "evt_1NG8Du2eZvKYlo2CUI79vXWy") -> dict:
    """An event shaped as Stripe's API reference shows it."""
    return {
        "id": evt,
        "object": "event",
        "api_version": "2024-06-20",
        "created": CREATED,
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": type_,
        "data": {"object": obj},
    }


def _invoice(**overrides) -> dict:
    invoice = {
        "id": "in_1MtHbELkdIwHu7ixl4OzzPMv",
        "object": "invoice",
        "amount_due": 9900,
        "amount_paid": 9900,
        "billing_reason": "subscription_create",
        "currency": "cny",
        "customer": "cus_NffrFeUfNV2Hib",
        "customer_email": "bob@shop.test",
        "status": "paid",
        "subscription": "sub_1MowQVLkdIwHu7ixeRlqHVzs",
        "subscription_details": {"metadata": {"external_id": "u-bob"}},
        "metadata": {},
        "lines": {
            "object": "list",
            "data": [
                {
                    "id": "il_1MtHbELkdIwHu7ixZJ3d5hNe",
                    "amount": 9900,
                    "currency": "cny",
                    "quantity": 3,
                    "price": {"id": "price_1Mr6", "recurring": {"interval": "year"}},
                }
            ],
        },
    }
    invoice.update(overrides)
    return invoice


def _post(client, payload: dict, **kwargs):
    return post_stripe(client, payload, **kwargs)


def test_invoice_paid_becomes_a_first_purchase_and_a_retry_is_a_duplicate(
    client, tenant, stripe_connector, django_capture_on_commit_callbacks
):
    payload = _event("invoice.paid", _invoice())
    with django_capture_on_commit_callbacks(execute=True):
        first = _post(client, payload)
    assert first.status_code == 200
    assert first.json()["status"] == "accepted"
    assert first.json()["event_ids"] == ["evt_1NG8Du2eZvKYlo2CUI79vXWy"]
    event = Event.objects.for_tenant(tenant).get()
    assert (event.event_id, event.type, event.external_id) == (
        "evt_1NG8Du2eZvKYlo2CUI79vXWy",
        "purchase",
        "u-bob",
    )
    assert (event.amount_minor, event.currency, event.order_id) == (
        9900,
        "CNY",
        "in_1MtHbELkdIwHu7ixl4OzzPMv",
    )
    assert event.payload["properties"] == {
        "first_order": True,
        "renewal": False,
        "source": "stripe",
        "billing_period": "annual",
        "seats": 3,
    }
    assert event.status == "processed"

    # Stripe retries the same event after a timeout on its side.
    with django_capture_on_commit_callbacks(execute=True):
        again = _post(client, payload)
    assert again.status_code == 200
    assert again.json()["status"] == "duplicate"
    assert Event.objects.for_tenant(tenant).count() == 1
    outcomes = list(
        InboundDelivery.objects.for_tenant(tenant).order_by("pk").values_list("outcome", flat=True)
    )
    assert outcomes == ["accepted", "duplicate"]


def test_a_renewal_invoice_is_a_purchase_marked_renewal(client, tenant, stripe_connector):
    payload = _event(
        "invoice.paid",
        _invoice(id="in_renew", billing_reason="subscription_cycle"),
        evt="evt_renewal",
    )
    assert _post(client, payload).json()["status"] == "accepted"
    event = Event.objects.for_tenant(tenant).get(event_id="evt_renewal")
    assert event.payload["properties"]["first_order"] is False
    assert event.payload["properties"]["renewal"] is True


def test_a_bad_signature_is_400_and_stores_nothing(client, tenant, stripe_connector):
    response = _post(client, _event("invoice.paid", _invoice()), secret="whsec_someone_else")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "signature_invalid"
    assert Event.objects.for_tenant(tenant).count() == 0
    assert InboundDelivery.objects.for_tenant(tenant).count() == 0
    connector = Connector.objects.for_tenant(tenant).get()
    assert connector.last_refused_at is not None
    assert "signature" in connector.last_refused_reason.lower()


def test_a_missing_signature_header_is_400(client, tenant, stripe_connector):
    response = client.post(
        URL, data=dumps(_event("invoice.paid", _invoice())), content_type="application/json"
    )
    assert response.status_code == 400
    assert Event.objects.for_tenant(tenant).count() == 0


def test_a_signature_older_than_the_tolerance_is_refused_unless_the_tolerance_allows_it(
    client, tenant, stripe_connector, settings
):
    stale = int(time.time()) - 600
    payload = _event("invoice.paid", _invoice())
    assert _post(client, payload, at=stale).status_code == 400
    assert Event.objects.for_tenant(tenant).count() == 0

    settings.CONNECTORS_STRIPE_TOLERANCE = 900
    assert _post(client, payload, at=stale).status_code == 200
    assert Event.objects.for_tenant(tenant).count() == 1


def test_an_unknown_event_type_is_acknowledged_and_logged(client, tenant, stripe_connector):
    response = _post(client, _event("customer.created", {"id": "cus_1", "object": "customer"}))
    assert response.status_code == 200
    assert response.json()["status"] == "ignored"
    delivery = InboundDelivery.objects.for_tenant(tenant).get()
    assert delivery.provider_type == "customer.created"
    assert delivery.detail == "Event type 'customer.created' is not one we read."
    assert Event.objects.for_tenant(tenant).count() == 0


def test_an_unknown_tenant_or_a_tenant_without_the_connector_is_404(client, tenant, other_tenant):
    body = dumps(_event("invoice.paid", _invoice()))
    sig = stripe_signature(body)
    for url in ("/hooks/stripe/nobody", "/hooks/stripe/acme"):
        response = client.post(
            url, data=body, content_type="application/json", HTTP_STRIPE_SIGNATURE=sig
        )
        assert response.status_code == 404


def test_another_tenants_secret_does_not_open_this_tenants_endpoint(
    client, tenant, other_tenant, stripe_connector
):
    from connectors.services import connector_save

    connector_save(tenant=other_tenant, kind="stripe", secret="whsec_globex_secret")
    response = _post(client, _event("invoice.paid", _invoice()), secret="whsec_globex_secret")
    assert response.status_code == 400
    assert Event.objects.for_tenant(tenant).count() == 0
    assert Event.objects.for_tenant(other_tenant).count() == 0


def test_an_inactive_connector_answers_404(client, tenant, stripe_connector):
    from connectors.services import connector_save

    connector_save(tenant=tenant, kind="stripe", is_active=False)
    assert _post(client, _event("invoice.paid", _invoice())).status_code == 404


def test_the_customer_is_found_by_email_and_remembered_for_a_cancellation(
    client, tenant, stripe_connector, django_capture_on_commit_callbacks
):
    from tracking import services as tracking_services

    tracking_services.participant_upsert(tenant=tenant, external_id="crm-77", email="Bob@Shop.test")
    invoice = _invoice(subscription_details={"metadata": {}})
    _post(client, _event("invoice.paid", invoice, evt="evt_paid"))
    assert Event.objects.for_tenant(tenant).get(event_id="evt_paid").external_id == "crm-77"

    subscription = {
        "id": "sub_1MowQVLkdIwHu7ixeRlqHVzs",
        "object": "subscription",
        "customer": "cus_NffrFeUfNV2Hib",
        "status": "canceled",
        "metadata": {},
    }
    response = _post(client, _event("customer.subscription.deleted", subscription, evt="evt_gone"))
    assert response.json()["status"] == "accepted"
    cancelled = Event.objects.for_tenant(tenant).get(event_id="evt_gone")
    assert cancelled.type == "activity"
    assert cancelled.external_id == "crm-77"
    assert cancelled.payload["properties"] == {"kind": "subscription_cancelled", "source": "stripe"}
    assert cancelled.order_id == "sub_1MowQVLkdIwHu7ixeRlqHVzs"


def test_a_customer_never_seen_without_metadata_or_email_is_ignored(
    client, tenant, stripe_connector
):
    subscription = {"id": "sub_x", "object": "subscription", "customer": None, "metadata": {}}
    response = _post(client, _event("customer.subscription.deleted", subscription))
    assert response.json()["status"] == "ignored"
    assert Event.objects.for_tenant(tenant).count() == 0


def test_each_partial_refund_is_recorded_as_its_own_amount(client, tenant, stripe_connector):
    charge = {
        "id": "ch_3MmlLrLkdIwHu7ix0snN0B15",
        "object": "charge",
        "amount": 9900,
        "amount_refunded": 3000,
        "currency": "cny",
        "customer": "cus_NffrFeUfNV2Hib",
        "invoice": "in_1MtHbELkdIwHu7ixl4OzzPMv",
        "payment_intent": "pi_3MmlLrLkdIwHu7ix0uke3Ezy",
        "refunded": False,
        "billing_details": {"email": "bob@shop.test"},
        "metadata": {"external_id": "u-bob"},
    }
    assert _post(client, _event("charge.refunded", charge, evt="evt_r1")).status_code == 200
    charge["amount_refunded"] = 5000
    assert _post(client, _event("charge.refunded", charge, evt="evt_r2")).status_code == 200
    # Stripe retries the first one: still one refund of ¥30.00.
    assert (
        _post(
            client, _event("charge.refunded", {**charge, "amount_refunded": 3000}, evt="evt_r1")
        ).json()["status"]
        == "duplicate"
    )
    refunds = list(
        Event.objects.for_tenant(tenant)
        .filter(type="refund")
        .order_by("event_id")
        .values_list("event_id", "amount_minor", "order_id")
    )
    assert refunds == [
        ("evt_r1", 3000, "in_1MtHbELkdIwHu7ixl4OzzPMv"),
        ("evt_r2", 2000, "in_1MtHbELkdIwHu7ixl4OzzPMv"),
    ]


def test_checkout_with_a_referral_code_makes_a_referral_that_the_purchase_converts(
    client, tenant, program, alice_code, stripe_connector, django_capture_on_commit_callbacks
):
    session = {
        "id": "cs_test_a1YS1URlnyQCN5fUUduORoQ7Pw41PJqDWkIVQCpJPqkfIhd6tVY8XB1OLY",
        "object": "checkout.session",
        "mode": "payment",
        "payment_status": "paid",
        "status": "complete",
        "amount_total": 19900,
        "currency": "cny",
        "customer": "cus_Carol",
        "customer_details": {"email": "carol@example.test", "name": "Carol"},
        "payment_intent": "pi_3Carol",
        "metadata": {"external_id": "u-carol", "referral_code": alice_code},
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = _post(client, _event("checkout.session.completed", session, evt="evt_carol"))
    assert response.json()["event_ids"] == ["evt_carol:signup", "evt_carol"]
    referral = Referral.objects.for_tenant(tenant).get()
    assert referral.referee.external_id == "u-carol"
    assert referral.referrer.external_id == "u-alice"
    assert referral.status == ReferralStatus.CONVERTED
    purchase = Event.objects.for_tenant(tenant).get(event_id="evt_carol")
    assert (purchase.amount_minor, purchase.order_id) == (19900, "pi_3Carol")


def test_a_subscription_checkout_leaves_the_payment_to_invoice_paid(
    client, tenant, stripe_connector
):
    session = {
        "id": "cs_sub",
        "object": "checkout.session",
        "mode": "subscription",
        "payment_status": "paid",
        "amount_total": 9900,
        "currency": "cny",
        "customer": "cus_1",
        "metadata": {},
    }
    response = _post(client, _event("checkout.session.completed", session))
    assert response.json()["status"] == "ignored"
    assert Event.objects.for_tenant(tenant).count() == 0


def test_a_newer_invoice_shape_finds_the_subscription_metadata_under_parent(
    client, tenant, stripe_connector
):
    invoice = _invoice(subscription_details=None)
    invoice["parent"] = {
        "type": "subscription_details",
        "subscription_details": {"metadata": {"external_id": "u-newer"}, "subscription": "sub_1"},
    }
    assert _post(client, _event("invoice.paid", invoice)).json()["status"] == "accepted"
    assert Event.objects.for_tenant(tenant).get().external_id == "u-newer"
