"""Referral statuses pushed to HubSpot through its official client, against a local fake:
the contact by email and the deal by referral id, each status once, retried on 429/5xx and
timeouts, a refusal recorded as failed."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine

from connectors.crm import crm_connection_save, crm_push
from connectors.models import CrmPush
from connectors.tests.fakes import FakeHubspot
from referral_platform.core import clock
from rewards.tests import factories
from tracking.models import Referral

pytestmark = pytest.mark.django_db


@pytest.fixture
def hubspot(settings, tenant):
    fake = FakeHubspot()
    settings.CONNECTORS_HUBSPOT_API_BASE = fake.url
    crm_connection_save(tenant=tenant, access_token="pat-na1-acme")
    yield fake
    fake.stop()


def _referral(tenant) -> Referral:
    prog = factories.program(tenant)
    carol = factories.participant(tenant, "u-carol", email="carol@example.test")
    return factories.referral(tenant, prog, referee=carol)


def test_each_status_reaches_the_contact_and_the_deal_once(tenant, hubspot):
    referral = _referral(tenant)
    assert crm_push() == {"collected": 1, "ok": 1}
    assert hubspot.upserts == [
        (
            "contacts",
            {
                "idProperty": "email",
                "id": "carol@example.test",
                "properties": {"referral_status": "pending"},
            },
        ),
        (
            "deals",
            {
                "idProperty": "referral_id",
                "id": str(referral.pk),
                "properties": {
                    "referral_status": "pending",
                    "dealname": f"Referral {referral.pk}: u-carol",
                },
            },
        ),
    ]
    assert crm_push() == {"collected": 0}

    Referral.unscoped.filter(pk=referral.pk).update(
        status="converted", status_changed_at=clock.now() - timedelta(days=2)
    )
    assert crm_push() == {"collected": 1, "ok": 1}
    assert [u[1]["properties"]["referral_status"] for u in hubspot.upserts] == [
        "pending",
        "pending",
        "converted",
        "converted",
    ]
    assert list(CrmPush.unscoped.order_by("pk").values_list("status", "state")) == [
        ("pending", "succeeded"),
        ("converted", "succeeded"),
    ]


def test_a_busy_hubspot_is_retried_on_the_webhook_schedule(tenant, hubspot):
    _referral(tenant)
    hubspot.statuses = [503]
    assert crm_push() == {"collected": 1, "retry": 1}
    push = CrmPush.unscoped.get()
    assert (push.state, push.attempts) == ("pending", 1)
    assert push.last_error.startswith("HubSpot answered 503")
    assert crm_push() == {"collected": 0}  # not yet due
    with time_machine.travel(push.next_attempt_at + timedelta(seconds=1), tick=False):
        assert crm_push() == {"collected": 0, "ok": 1}
    assert CrmPush.unscoped.get().state == "succeeded"


def test_a_refusal_is_failed_with_the_reason_and_not_retried(tenant, hubspot):
    _referral(tenant)
    hubspot.statuses = [400]
    assert crm_push() == {"collected": 1, "failed": 1}
    push = CrmPush.unscoped.get()
    assert push.state == "failed"
    assert push.last_error.startswith("HubSpot answered 400")
    with time_machine.travel(clock.now() + timedelta(days=1), tick=False):
        assert crm_push() == {"collected": 0}


def test_a_timeout_is_retried(tenant, hubspot, settings):
    _referral(tenant)
    settings.CONNECTORS_PAYOUT_TIMEOUT = 0.5
    hubspot.delay_once = 1.5
    assert crm_push() == {"collected": 1, "retry": 1}
    assert "No answer from HubSpot" in CrmPush.unscoped.get().last_error


def test_only_tenants_with_a_connection_are_pushed(tenant, other_tenant, hubspot):
    _referral(other_tenant)
    assert crm_push() == {"collected": 0}
    assert hubspot.requests == []
