"""Segment's track and identify calls: the tenant's API key, the shared secret's
`X-Signature`, and the connector's mapping of event names to ours."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from connectors.models import InboundDelivery
from connectors.services import connector_save
from tracking.models import Event, Participant

from .conftest import SEGMENT_SECRET, dumps, segment_signature

pytestmark = pytest.mark.django_db

URL = "/api/v1/segment"


def _track(event: str = "Order Completed", **overrides) -> dict:
    """A track call as Segment's spec shows it (the e-commerce `Order Completed`)."""
    call = {
        "type": "track",
        "event": event,
        "userId": "u-dave",
        "anonymousId": "507f191e810c19729de860ea",
        "messageId": "ajs-f8ca1e4de5024d9430b3928bd8ac6b96",
        "timestamp": "2026-05-04T02:00:00.000Z",
        "context": {
            "ip": "203.0.113.7",
            "userAgent": "Mozilla/5.0",
            "traits": {"email": "dave@example.test"},
        },
        "properties": {
            "order_id": "50314b8e9bcf000000000000",
            "total": 27.5,
            "currency": "USD",
            "coupon": "hasbros",
        },
    }
    call.update(overrides)
    return call


def _post(api: APIClient, call: dict, *, secret: str = SEGMENT_SECRET):
    body = dumps(call)
    return api.generic(
        "POST",
        URL,
        body,
        content_type="application/json",
        HTTP_X_SIGNATURE=segment_signature(body, secret),
    )


def test_order_completed_becomes_a_purchase(api, tenant, segment_connector):
    response = _post(api, _track())
    assert response.status_code == 200
    assert response.json()["status"] == "accepted"
    event = Event.objects.for_tenant(tenant).get()
    assert (event.event_id, event.type, event.external_id) == (
        "segment:ajs-f8ca1e4de5024d9430b3928bd8ac6b96",
        "purchase",
        "u-dave",
    )
    assert (event.amount_minor, event.currency, event.order_id) == (
        2750,
        "USD",
        "50314b8e9bcf000000000000",
    )
    assert event.payload["properties"] == {"coupon": "hasbros"}
    assert event.payload["context"] == {"ip": "203.0.113.7", "user_agent": "Mozilla/5.0"}
    assert _post(api, _track()).json()["status"] == "duplicate"


def test_the_mapping_decides_which_names_count(api, tenant, segment_connector):
    assert _post(api, _track("Trial Started", messageId="m-1")).json()["status"] == "ignored"
    connector_save(tenant=tenant, kind="segment", mapping={"Trial Started": "qualified_lead"})
    assert _post(api, _track("Trial Started", messageId="m-2")).json()["status"] == "accepted"
    assert list(Event.objects.for_tenant(tenant).values_list("type", flat=True)) == [
        "qualified_lead"
    ]
    # Order Completed is no longer mapped.
    assert _post(api, _track(messageId="m-3")).json()["status"] == "ignored"
    details = list(
        InboundDelivery.objects.for_tenant(tenant).order_by("pk").values_list("detail", flat=True)
    )
    assert details[0] == "Track event 'Trial Started' is not mapped to one of ours."


def test_identify_updates_the_participant(api, tenant, segment_connector):
    call = {
        "type": "identify",
        "userId": "u-erin",
        "messageId": "ajs-identify-1",
        "traits": {"email": "erin@example.test", "name": "Erin"},
        "timestamp": "2026-05-04T02:00:00.000Z",
    }
    assert _post(api, call).json()["status"] == "accepted"
    erin = Participant.objects.for_tenant(tenant).get(external_id="u-erin")
    assert (erin.email, erin.name) == ("erin@example.test", "Erin")
    assert Event.objects.for_tenant(tenant).count() == 0


def test_a_bad_signature_is_400_and_stores_nothing(api, tenant, segment_connector):
    response = _post(api, _track(), secret="not-the-secret")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "signature_invalid"
    assert Event.objects.for_tenant(tenant).count() == 0
    assert InboundDelivery.objects.for_tenant(tenant).count() == 0


def test_without_an_api_key_it_is_401(tenant, segment_connector):
    response = _post(APIClient(), _track())
    assert response.status_code == 401
    assert Event.objects.for_tenant(tenant).count() == 0


def test_a_tenant_without_the_connector_gets_404(other_api, tenant, segment_connector):
    assert _post(other_api, _track()).status_code == 404


def test_page_and_other_calls_are_acknowledged_and_logged(api, tenant, segment_connector):
    response = _post(api, {"type": "page", "name": "Home", "messageId": "p-1"})
    assert response.status_code == 200
    assert response.json()["status"] == "ignored"
    assert InboundDelivery.objects.for_tenant(tenant).get().provider_type == "page"
