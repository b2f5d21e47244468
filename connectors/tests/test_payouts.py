"""Payouts through Stripe Connect and PayPal against local fakes of their APIs: the payout's
key on every attempt, a timeout after the provider acted paid once, refusals recorded with
their reason, and nothing sent before the batch is approved or for a CSV tenant."""

from __future__ import annotations

import json
from datetime import timedelta
from urllib.parse import parse_qs

import pytest
import time_machine

from connectors.models import PayoutTransfer
from connectors.outbound import payout_provider_save, payouts_send
from connectors.tests.fakes import FakePaypal, FakeStripe
from referral_platform.core import clock
from rewards.models import Payout, Reward
from rewards.services import payout_batch_approve, reward_clawback, reward_fulfil
from rewards.tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def fake_stripe(settings):
    fake = FakeStripe()
    settings.CONNECTORS_STRIPE_API_BASE = fake.url
    yield fake
    fake.stop()


@pytest.fixture
def fake_paypal(settings):
    fake = FakePaypal()
    settings.CONNECTORS_PAYPAL_API_BASE = fake.url
    yield fake
    fake.stop()


def _requested_payout(tenant, *, attributes=None) -> Payout:
    prog = factories.program(tenant)
    bob = factories.participant(
        tenant, "u-bob", email="bob@example.test", attributes=attributes or {}
    )
    reward = Reward.unscoped.create(
        tenant=tenant,
        program=prog,
        participant=bob,
        side="referrer",
        scope="referral:1",
        reason="stage:paid-cash",
        kind="cash",
        amount_minor=5000,
        currency="CNY",
        status="approved",
        description="¥50 for bringing a friend",
    )
    assert reward_fulfil(reward_id=reward.pk) == "payout_requested"
    return Payout.unscoped.get(reward=reward)


@pytest.fixture
def payout(tenant, owner) -> Payout:
    payout = _requested_payout(
        tenant, attributes={"stripe_account": "acct_1Bob", "paypal_email": "bob@paypal.test"}
    )
    payout_batch_approve(batch=payout.batch, actor=owner)
    return payout


def _stripe(tenant):
    payout_provider_save(tenant=tenant, kind="stripe_connect", api_key="sk_test_acme")


def _paypal(tenant):
    payout_provider_save(
        tenant=tenant, kind="paypal", client_id="AcmeClientId", client_secret="AcmeSecret"
    )


def _later(minutes: int):
    return time_machine.travel(clock.now() + timedelta(minutes=minutes), tick=False)


def test_stripe_connect_pays_the_payout_once_with_its_key(tenant, payout, fake_stripe):
    _stripe(tenant)
    assert payouts_send() == {"opened": 1, "paid": 1}
    payout.refresh_from_db()
    assert (payout.status, payout.external_ref) == ("paid", "tr_0001")
    assert Reward.unscoped.get(pk=payout.reward_id).status == "fulfilled"
    [(method, path, headers, body)] = fake_stripe.requests
    assert (method, path) == ("POST", "/v1/transfers")
    assert headers["idempotency-key"] == f"payout-{payout.pk}"
    assert headers["authorization"] == "Bearer sk_test_acme"
    form = {k: v[0] for k, v in parse_qs(body).items()}
    assert (form["amount"], form["currency"], form["destination"]) == ("5000", "cny", "acct_1Bob")
    # Nothing is left to do: a second sweep sends nothing.
    assert payouts_send() == {"opened": 0}
    assert len(fake_stripe.requests) == 1


def test_a_stripe_timeout_after_the_transfer_was_made_pays_once(
    tenant, payout, fake_stripe, settings
):
    _stripe(tenant)
    settings.CONNECTORS_PAYOUT_TIMEOUT = 0.5
    fake_stripe.delay_once = 1.5  # Stripe makes the transfer, the answer comes too late
    assert payouts_send() == {"opened": 1, "retry": 1}
    payout.refresh_from_db()
    assert payout.status == "requested"
    transfer = PayoutTransfer.unscoped.get(payout=payout)
    assert (transfer.status, transfer.attempts) == ("sending", 1)
    assert transfer.last_error
    # Not before its time.
    assert payouts_send() == {"opened": 0}
    with _later(5):
        assert payouts_send() == {"opened": 0, "paid": 1}
    payout.refresh_from_db()
    assert (payout.status, payout.external_ref) == ("paid", "tr_0001")
    assert len(fake_stripe.transfers) == 1
    keys = [h["idempotency-key"] for _, _, h, _ in fake_stripe.requests]
    assert keys == [f"payout-{payout.pk}", f"payout-{payout.pk}"]


def test_a_refused_stripe_transfer_fails_the_payout_with_the_reason(tenant, payout, fake_stripe):
    _stripe(tenant)
    fake_stripe.fail_with = (
        400,
        {
            "error": {
                "type": "invalid_request_error",
                "code": "resource_missing",
                "message": "No such destination: 'acct_1Bob'",
            }
        },
    )
    assert payouts_send() == {"opened": 1, "failed": 1}
    payout.refresh_from_db()
    assert payout.status == "failed"
    assert payout.failure_reason == "No such destination: 'acct_1Bob'"
    # SEMANTICS §5: a failed payout returns the reward to approved.
    assert Reward.unscoped.get(pk=payout.reward_id).status == "approved"


def test_a_stripe_5xx_is_retried_not_failed(tenant, payout, fake_stripe):
    _stripe(tenant)
    fake_stripe.fail_with = (500, {"error": {"type": "api_error", "message": "Try again"}})
    assert payouts_send() == {"opened": 1, "retry": 1}
    fake_stripe.fail_with = None
    with _later(5):
        assert payouts_send() == {"opened": 0, "paid": 1}
    assert len(fake_stripe.transfers) == 1


def test_a_participant_without_an_account_fails_without_calling_stripe(tenant, owner, fake_stripe):
    payout = _requested_payout(tenant)
    payout_batch_approve(batch=payout.batch, actor=owner)
    _stripe(tenant)
    assert payouts_send() == {"opened": 1, "failed": 1}
    payout.refresh_from_db()
    assert payout.failure_reason == "The participant has no payout account on file."
    assert fake_stripe.requests == []


def test_nothing_leaves_before_the_batch_is_approved(tenant, owner, fake_stripe):
    payout = _requested_payout(tenant, attributes={"stripe_account": "acct_1Bob"})
    _stripe(tenant)
    assert payouts_send() == {"opened": 0}
    payout_batch_approve(batch=payout.batch, actor=owner)
    assert payouts_send() == {"opened": 1, "paid": 1}


def test_a_csv_tenant_keeps_its_batch_and_nothing_is_sent(tenant, payout, fake_stripe):
    payout_provider_save(tenant=tenant, kind="csv")
    assert payouts_send() == {"opened": 0}
    payout.refresh_from_db()
    assert payout.status == "requested"
    assert fake_stripe.requests == []


def test_paypal_payout_is_polled_until_paid(tenant, payout, fake_paypal):
    _paypal(tenant)
    assert payouts_send() == {"opened": 1, "pending": 1}
    payout.refresh_from_db()
    assert payout.status == "requested"
    posts = [r for r in fake_paypal.requests if r[1] == "/v1/payments/payouts"]
    [(_, _, headers, body)] = posts
    assert headers["paypal-request-id"] == f"payout-{payout.pk}"
    sent = json.loads(body)
    assert sent["sender_batch_header"]["sender_batch_id"] == f"payout-{payout.pk}"
    assert sent["items"][0]["amount"] == {"value": "50.00", "currency": "CNY"}
    assert sent["items"][0]["receiver"] == "bob@paypal.test"

    with _later(11):
        assert payouts_send() == {"opened": 0, "paid": 1}
    payout.refresh_from_db()
    assert (payout.status, payout.external_ref) == ("paid", "5UXD2E8A7EB001")


def test_a_paypal_timeout_after_the_batch_was_made_pays_once(tenant, payout, fake_paypal, settings):
    _paypal(tenant)
    settings.CONNECTORS_PAYOUT_TIMEOUT = 0.5
    fake_paypal.delay_once = 0  # the token answers at once
    original = fake_paypal.route

    def slow_payout(method, path, headers, body):
        if path == "/v1/payments/payouts" and not fake_paypal.batches:
            fake_paypal.delay_once = 1.5
        return original(method, path, headers, body)

    fake_paypal.route = slow_payout
    assert payouts_send() == {"opened": 1, "retry": 1}
    with _later(5):
        assert payouts_send() == {"opened": 0, "pending": 1}
    with _later(20):
        assert payouts_send() == {"opened": 0, "paid": 1}
    assert len(fake_paypal.batches) == 1
    payout.refresh_from_db()
    assert payout.status == "paid"


def test_a_paypal_item_that_fails_fails_the_payout_with_paypals_reason(tenant, payout, fake_paypal):
    _paypal(tenant)
    fake_paypal.item_status = "FAILED"
    fake_paypal.item_errors = {
        "name": "RECEIVER_UNREGISTERED",
        "message": "Receiver is unregistered",
    }
    payouts_send()
    with _later(11):
        assert payouts_send() == {"opened": 0, "failed": 1}
    payout.refresh_from_db()
    assert (payout.status, payout.failure_reason) == ("failed", "PayPal: Receiver is unregistered")


def test_a_payout_wholly_kept_back_for_a_clawback_is_settled_without_a_transfer(
    tenant, owner, fake_stripe
):
    """Net cash: ¥50 paid, then clawed back, is owed; the next ¥50 payout sends ¥0.00, so no
    transfer leaves (providers refuse zero) and the payout is settled as paid."""
    _stripe(tenant)
    first = _requested_payout(tenant, attributes={"stripe_account": "acct_1Bob"})
    payout_batch_approve(batch=first.batch, actor=owner)
    assert payouts_send() == {"opened": 1, "paid": 1}
    assert reward_clawback(reward_id=first.reward_id, reason="refund after the hold")

    with _later(60 * 24 * 40):  # next month: the first batch is approved and closed
        second = _second_payout(first, owner)
        assert payouts_send() == {"opened": 1, "paid": 1}
    second.refresh_from_db()
    assert second.status == "paid"
    assert len(fake_stripe.requests) == 1  # only the first payout's transfer


def _second_payout(first: Payout, owner) -> Payout:
    second_reward = Reward.unscoped.create(
        tenant=first.tenant,
        program=first.reward.program,
        participant=first.reward.participant,
        side="referrer",
        scope="referral:2",
        reason="stage:paid-cash",
        kind="cash",
        amount_minor=5000,
        currency="CNY",
        status="approved",
    )
    assert reward_fulfil(reward_id=second_reward.pk) == "payout_requested"
    second = Payout.unscoped.get(reward=second_reward)
    assert (second.amount_minor, second.offset_minor) == (0, 5000)
    payout_batch_approve(batch=second.batch, actor=owner)
    return second
