"""The staff pages: every role reads the connectors and their log, only the owner edits,
another tenant's delivery is a 404, and a bad form answers in words."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from connectors.models import Connector, InboundDelivery
from connectors.services import connector_save

from .conftest import STRIPE_SECRET, post_stripe

pytestmark = pytest.mark.django_db


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def _stripe_delivery(client, type_="customer.created"):
    return post_stripe(
        client,
        {
            "id": "evt_1",
            "object": "event",
            "created": 1770000000,
            "type": type_,
            "data": {"object": {"id": "cus_1"}},
        },
    )


def test_every_role_reads_the_connectors_with_their_last_delivery(
    client, tenant, analyst, stripe_connector
):
    _stripe_delivery(client)
    response = login(analyst).get("/app/settings/connectors/")
    assert response.status_code == 200
    rows = re.findall(r'<tr data-connector="(\w+)">(.*?)</tr>', response.content.decode(), re.S)
    cells = {kind: re.sub(r"<[^>]+>|\s+", " ", row).split() for kind, row in rows}
    assert list(cells) == ["stripe", "shopify", "segment", "payouts", "crm"]
    assert cells["stripe"][:3] == ["Stripe", "On", "Ignored"]
    assert cells["shopify"] == ["Shopify", "Not", "set", "up", "none", "yet"]


def test_the_detail_shows_the_url_to_paste_and_the_log(
    client, tenant, owner, stripe_connector, settings
):
    settings.PUBLIC_BASE_URL = "https://referrals.example.com"
    _stripe_delivery(client)
    page = _text(login(owner).get("/app/settings/connectors/stripe/"))
    assert (
        '<code data-testid="inbound-url">https://referrals.example.com/hooks/stripe/acme</code>'
        in page
    )
    assert "customer.created" in page
    assert "Event type &#x27;customer.created&#x27; is not one we read." in page
    # The stored secret is never written back into the page.
    assert STRIPE_SECRET not in page


def test_the_owner_sets_up_stripe_and_the_secret_verifies_deliveries(client, tenant, owner):
    response = login(owner).post(
        "/app/settings/connectors/stripe/",
        {"secret": "whsec_pasted_from_stripe", "is_active": "on"},
    )
    assert response.status_code == 302
    connector = Connector.objects.for_tenant(tenant).get(kind="stripe")
    assert (connector.secret, connector.is_active) == ("whsec_pasted_from_stripe", True)
    ping = {
        "id": "evt_2",
        "object": "event",
        "created": 1770000000,
        "type": "ping",
        "data": {"object": {}},
    }
    assert post_stripe(client, ping, secret="whsec_pasted_from_stripe").status_code == 200

    # A blank secret keeps the stored one; turning it off closes the endpoint.
    login(owner).post("/app/settings/connectors/stripe/", {"secret": ""})
    connector.refresh_from_db()
    assert (connector.secret, connector.is_active) == ("whsec_pasted_from_stripe", False)
    assert post_stripe(client, ping, secret="whsec_pasted_from_stripe").status_code == 404


def test_a_new_stripe_connector_without_a_secret_is_refused_in_words(tenant, owner):
    response = login(owner).post("/app/settings/connectors/stripe/", {"is_active": "on"})
    assert response.status_code == 200
    assert "This field is required." in _text(response)
    assert not Connector.objects.for_tenant(tenant).exists()


def test_segment_gets_a_generated_secret_and_a_mapping_the_owner_edits(tenant, owner):
    owner_client = login(owner)
    owner_client.post(
        "/app/settings/connectors/segment/",
        {"is_active": "on", "mapping": "Signed Up = signup\nPlan Paid = purchase"},
    )
    connector = Connector.objects.for_tenant(tenant).get(kind="segment")
    assert connector.secret.startswith("seg_") and len(connector.secret) > 30
    assert connector.mapping == {"Signed Up": "signup", "Plan Paid": "purchase"}
    assert connector.secret in _text(owner_client.get("/app/settings/connectors/segment/"))

    bad = owner_client.post(
        "/app/settings/connectors/segment/", {"is_active": "on", "mapping": "Plan Paid = payment"}
    )
    assert (
        "Write each line as “Event Name = type” with one of our types: 1: Plan Paid = payment"
        in bad.content.decode()
    )
    connector.refresh_from_db()
    assert connector.mapping == {"Signed Up": "signup", "Plan Paid": "purchase"}

    old = connector.secret
    assert owner_client.post("/app/settings/connectors/segment/rotate/").status_code == 302
    connector.refresh_from_db()
    assert connector.secret != old


def test_only_the_owner_changes_a_connector(tenant, marketer, ops, analyst, stripe_connector):
    for user in (marketer, ops, analyst):
        client = login(user)
        assert (
            client.post("/app/settings/connectors/stripe/", {"secret": "whsec_mine"}).status_code
            == 403
        )
        assert client.post("/app/settings/connectors/segment/rotate/").status_code == 403
        page = _text(client.get("/app/settings/connectors/stripe/"))
        assert 'data-testid="connector-form"' not in page
    assert Connector.objects.for_tenant(tenant).get().secret == STRIPE_SECRET


def test_another_tenants_delivery_is_404(
    client, tenant, other_tenant, owner, outsider, stripe_connector
):
    _stripe_delivery(client)
    delivery_id = InboundDelivery.objects.for_tenant(tenant).get().pk
    assert (
        login(owner).get(f"/app/settings/connectors/deliveries/{delivery_id}/").status_code == 200
    )
    assert (
        login(outsider).get(f"/app/settings/connectors/deliveries/{delivery_id}/").status_code
        == 404
    )
    # The outsider's own connector page shows nothing of ours.
    page = _text(login(outsider).get("/app/settings/connectors/stripe/"))
    assert "Nothing received yet." in page
    assert "/hooks/stripe/globex" in page


def test_an_unknown_kind_is_404(owner):
    assert login(owner).get("/app/settings/connectors/paypal/").status_code == 404


def test_the_pages_read_in_chinese(client, tenant, owner, stripe_connector):
    _stripe_delivery(client)
    staff = login(owner)
    staff.cookies["django_language"] = "zh-hans"
    listing = _text(staff.get("/app/settings/connectors/", HTTP_ACCEPT_LANGUAGE="zh-hans"))
    assert "连接器" in listing
    assert "已忽略" in listing
    detail = _text(staff.get("/app/settings/connectors/stripe/", HTTP_ACCEPT_LANGUAGE="zh-hans"))
    assert "粘贴到服务商的网址" in detail
    assert "最近接收" in detail


def test_saving_is_audited(tenant, owner):
    from referral_platform.core.models import AuditEntry

    connector_save(tenant=tenant, kind="shopify", secret="s3cret", actor=owner)
    entry = AuditEntry.unscoped.get(tenant=tenant, action="connector.saved")
    assert entry.data == {"kind": "shopify", "active": True, "secret_changed": True}
    assert "s3cret" not in str(entry.data)


def test_the_owner_chooses_stripe_connect_for_payouts_and_others_only_read(tenant, owner, ops):
    from connectors.models import PayoutProvider

    owner_client = login(owner)
    refused = owner_client.post("/app/settings/connectors/payouts/", {"kind": "stripe_connect"})
    assert "Paste the Stripe secret key to pay through Stripe." in refused.content.decode()
    assert not PayoutProvider.objects.for_tenant(tenant).exists()

    saved = owner_client.post(
        "/app/settings/connectors/payouts/", {"kind": "stripe_connect", "api_key": "sk_live_1"}
    )
    assert saved.status_code == 302
    provider = PayoutProvider.objects.for_tenant(tenant).get()
    assert (provider.kind, provider.api_key, provider.live) == (
        "stripe_connect",
        "sk_live_1",
        False,
    )
    page = _text(owner_client.get("/app/settings/connectors/payouts/"))
    assert "sk_live_1" not in page
    assert "Stripe Connect transfers" in _text(owner_client.get("/app/settings/connectors/"))

    ops_client = login(ops)
    assert ops_client.post("/app/settings/connectors/payouts/", {"kind": "csv"}).status_code == 403
    assert 'data-testid="payout-form"' not in _text(
        ops_client.get("/app/settings/connectors/payouts/")
    )
    assert PayoutProvider.objects.for_tenant(tenant).get().kind == "stripe_connect"


def test_the_payouts_page_lists_what_was_sent_with_its_amount(
    tenant, owner, other_tenant, outsider
):
    from connectors.models import PayoutTransfer
    from connectors.tests.test_payouts import _requested_payout
    from referral_platform.core import clock

    payout = _requested_payout(tenant, attributes={"stripe_account": "acct_1"})
    PayoutTransfer.unscoped.create(
        tenant=tenant,
        payout=payout,
        provider="stripe_connect",
        idempotency_key=f"payout-{payout.pk}",
        status="sending",
        attempts=1,
        last_error="Request timed out",
        created_at=clock.now(),
    )
    rows = re.findall(
        r"<tr data-transfer=.*?</tr>",
        login(owner).get("/app/settings/connectors/payouts/").content.decode(),
        re.S,
    )
    assert [re.sub(r"<[^>]+>|\s+", " ", r).split() for r in rows] == [
        [f"#{payout.pk}", "¥50", "Sending", "Request", "timed", "out", "1"]
    ]
    assert (
        "data-transfer="
        not in login(outsider).get("/app/settings/connectors/payouts/").content.decode()
    )


def test_the_owner_connects_hubspot_and_every_role_reads_the_pushes(
    tenant, owner, analyst, settings
):
    # A closed local port: the push is refused at once and waits for its retry.
    settings.CONNECTORS_HUBSPOT_API_BASE = "http://127.0.0.1:9"
    from connectors.crm import crm_push
    from connectors.models import CrmConnection
    from rewards.tests import factories

    owner_client = login(owner)
    assert "This field is required." in _text(
        owner_client.post("/app/settings/connectors/crm/", {"is_active": "on"})
    )
    assert (
        owner_client.post(
            "/app/settings/connectors/crm/", {"access_token": "pat-na1-x", "is_active": "on"}
        ).status_code
        == 302
    )
    assert CrmConnection.objects.for_tenant(tenant).get().access_token == "pat-na1-x"

    prog = factories.program(tenant)
    referral = factories.referral(tenant, prog)
    assert crm_push() == {"collected": 1, "retry": 1}
    rows = re.findall(
        r"<tr data-push=.*?</tr>",
        login(analyst).get("/app/settings/connectors/crm/").content.decode(),
        re.S,
    )
    assert len(rows) == 1
    assert f"#{referral.pk}" in rows[0] and "pending" in rows[0]
    assert (
        login(analyst).post("/app/settings/connectors/crm/", {"access_token": "x"}).status_code
        == 403
    )
