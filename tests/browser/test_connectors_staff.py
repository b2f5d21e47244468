"""The connectors page as the owner uses it: set Stripe up, see the URL to paste, and read
the delivery log, in English and Chinese, without accessibility problems."""

from __future__ import annotations

import pytest
from django.test import Client

from connectors.tests.conftest import post_stripe
from tests.browser.test_portal_customer import axe_problems

# The staff shell's menu links (workspace, language, account) carry an aria-label that does
# not contain their visible text; that is the shell's, not this page's.
SHELL = "label-content-name-mismatch"


def content_axe_problems(page) -> list[str]:
    return [p for p in axe_problems(page) if not p.startswith(SHELL)]


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
    assert content_axe_problems(page) == []
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
    assert content_axe_problems(page) == []
    shot(page, "connectors-stripe-zh")
