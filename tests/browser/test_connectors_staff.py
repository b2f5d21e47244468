"""The connectors page as the owner uses it: set Stripe up, see the URL to paste, and read
the delivery log, in English and Chinese, without accessibility problems."""

from __future__ import annotations

import pytest
from django.test import Client

from connectors.tests.conftest import post_stripe
from tests.browser.test_portal_customer import axe_problems

pytestmark = pytest.mark.django_db(transaction=True)


def test_owner_sets_up_stripe_and_reads_the_log(live_server, page, shot, tenant, staff_login):
    staff_login(page, live_server, "owner@acme.test", "pw-owner-12345")
    page.goto(live_server.url + "/app/settings/connectors/stripe/")
    page.fill("input[name=secret]", "whsec_from_the_dashboard")
    page.click("[data-testid=connector-form] button[type=submit]")
    page.wait_for_selector("[data-testid=connector-state]")

    post_stripe(
        Client(),
        {
            "id": "evt_ping",
            "object": "event",
            "created": 1770000000,
            "type": "customer.created",
            "data": {"object": {}},
        },
        secret="whsec_from_the_dashboard",
    )
    page.reload()
    assert page.inner_text("[data-testid=inbound-url]").endswith("/hooks/stripe/acme")
    assert "customer.created" in page.inner_text("[data-testid=deliveries]")
    assert "Ignored" in page.inner_text("[data-testid=deliveries]")
    assert axe_problems(page) == []
    assert page.console_problems == []
    shot(page, "connectors-stripe")

    page.goto(live_server.url + "/app/settings/connectors/")
    assert "Stripe" in page.inner_text("[data-testid=connectors]")
    shot(page, "connectors-list")

    page.context.add_cookies(
        [{"name": "django_language", "value": "zh-hans", "url": live_server.url}]
    )
    page.goto(live_server.url + "/app/settings/connectors/stripe/")
    assert "粘贴到服务商的网址" in page.inner_text("[data-testid=connector-setup]")
    assert axe_problems(page) == []
    shot(page, "connectors-stripe-zh")


def test_owner_chooses_paypal_for_payouts_and_connects_hubspot(
    live_server, page, shot, tenant, staff_login
):
    staff_login(page, live_server, "owner@acme.test", "pw-owner-12345")
    page.goto(live_server.url + "/app/settings/connectors/payouts/")
    page.select_option("select[name=kind]", "paypal")
    page.fill("input[name=client_id]", "AcmeClientId")
    page.fill("input[name=client_secret]", "AcmeSecret")
    page.click("[data-testid=payout-form] button[type=submit]")
    page.wait_for_selector(".alert-success, .alert")
    # The shell's flash message is checked where the shell is built; this page without it.
    page.reload()
    assert page.input_value("select[name=kind]") == "paypal"
    assert axe_problems(page) == []
    shot(page, "connectors-payouts")

    page.goto(live_server.url + "/app/settings/connectors/crm/")
    page.fill("input[name=access_token]", "pat-na1-acme")
    page.click("[data-testid=crm-form] button[type=submit]")
    page.wait_for_selector(".alert-success, .alert")
    page.reload()
    assert axe_problems(page) == []
    shot(page, "connectors-crm")
    page.goto(live_server.url + "/app/settings/connectors/")
    text = page.inner_text("[data-testid=connectors]")
    assert "PayPal Payouts" in text and "HubSpot" in text
    assert page.console_problems == []
