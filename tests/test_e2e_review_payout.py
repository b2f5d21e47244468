"""Fraud fails closed on money already approved (SEMANTICS §10): a referral a refund puts
back into review after its reward's release has that cash withdrawn from its payout batch,
not payable and shown as being checked until ops decides; approval pays it, rejection
never does."""

from datetime import timedelta

import time_machine
from django.test import Client

from referral_platform.webhooks.models import WebhookEndpoint, WebhookMessage
from rewards.models import Payout, PayoutStatus, Reward
from tests.scenario import local, tick
from tests.test_e2e_derived_rewards import (
    TIER_MINOR,
    decide,
    derived_spec,
    friend,
    referrer_code,
    refund,
)


def bobs_reward(tenant) -> Reward:
    return Reward.objects.for_tenant(tenant).get(
        referral__referee__external_id="bob", reason="stage:per_success"
    )


def payouts(tenant) -> list[tuple[str, int]]:
    return list(
        Payout.objects.for_tenant(tenant).order_by("pk").values_list("status", "amount_minor")
    )


def payable(api) -> int:
    """The referrer's payable cash in the API (no currency listed: nothing)."""
    answer = api.get("/api/v1/balances", {"participant": "boss"})
    assert answer.status_code == 200, answer.content
    return sum(row["payable"]["amount_minor"] for row in answer.json()["cash"])


def portal_reward_state(api) -> str:
    session = api.post("/api/v1/portal-sessions", {"participant": "boss"}, format="json")
    page = Client().get(session.json()["url"], follow=True).content.decode()
    [item] = page.split('data-testid="reward" ')[1:]
    state = item[item.index('class="state state-') :]
    return state[state.index(">") + 1 : state.index("<")].strip()


def cancelled_webhooks(tenant) -> list[tuple[int, str, int]]:
    """The `payout.cancelled` webhooks: (payout id, reason, amount)."""
    return [
        (m.data["payout"]["id"], m.data["reason"], m.data["payout"]["amount"]["amount_minor"])
        for m in WebhookMessage.objects.for_tenant(tenant)
        .filter(type="payout.cancelled")
        .order_by("pk")
    ]


def staff_rewards(ops, path) -> tuple[list[tuple[str, str]], str]:
    """The rewards card of a staff page: (value, status and hold) per row, and the cash not
    yet paid."""
    staff = Client()
    staff.force_login(ops)
    page = staff.get(path)
    assert page.status_code == 200
    html = page.content.decode()
    table = html[html.index('data-testid="referral-rewards"') :].split("</table>")[0]

    def text(row, testid):
        return row.split(f'data-testid="{testid}">')[1].split("<")[0] if testid in row else ""

    rows = [
        (text(row, "reward-value"), f"{text(row, 'reward-status')} {text(row, 'reward-hold')}")
        for row in table.split("<tr data-reward=")[1:]
    ]
    unpaid = ""
    if 'data-testid="cash-unpaid"' in html:
        unpaid = html.split('data-testid="cash-unpaid"')[1].split("<strong>")[1].split("<")[0]
    return rows, unpaid


def bob_refunded_after_payout(tenant, api, *, clawback_days: int, tier: bool = False):
    """Bob's ¥20 is approved and its payout requested (with `tier`, so is the ¥300 tier his
    one success earns); his order is refunded two days later. Every webhook is recorded."""
    WebhookEndpoint.unscoped.create(
        tenant=tenant, url="https://hooks.example.com/in", secret="whsec_test", events=[]
    )
    spec = derived_spec(clawback_days=clawback_days, tier_threshold=1 if tier else 50)
    code = referrer_code(tenant, api, spec)
    ordered = local(3, 2)
    with time_machine.travel(ordered, tick=False):
        friend(api, code, "bob", ordered)
        tick()
    tick(ordered + timedelta(days=8))
    reward = bobs_reward(tenant)
    assert (reward.status, reward.hold_reason) == ("approved", "")
    requested = [(PayoutStatus.REQUESTED, 2000)] + [(PayoutStatus.REQUESTED, TIER_MINOR)] * tier
    assert payouts(tenant) == requested
    assert payable(api) == 2000 + TIER_MINOR * tier
    with time_machine.travel(ordered + timedelta(days=10), tick=False):
        refund(api, "bob", ordered + timedelta(days=10))
    tick(ordered + timedelta(days=10))
    return ordered


def bob_back_in_review(tenant, api):
    """The refund falls outside the clawback window: the reward stays, and fraud puts the
    referral back in review."""
    return bob_refunded_after_payout(tenant, api, clawback_days=0)


def test_approved_cash_back_in_review_waits_for_ops_and_is_paid_once_cleared(tenant, api, ops):
    ordered = bob_back_in_review(tenant, api)
    reward = bobs_reward(tenant)
    assert reward.referral.status == "review"
    assert (reward.status, reward.hold_reason) == ("approved", "review")
    # Withdrawn from its batch (the tenant is told), not payable, and no tick requests it
    # again meanwhile.
    assert payouts(tenant) == [(PayoutStatus.CANCELLED, 2000)]
    [withdrawn] = Payout.objects.for_tenant(tenant)
    assert cancelled_webhooks(tenant) == [(withdrawn.pk, "review", 2000)]
    listed_payouts = api.get("/api/v1/payouts").json()["results"]
    assert [(p["status"], p["cancel_reason"]) for p in listed_payouts] == [("cancelled", "review")]
    staff = Client()
    staff.force_login(ops)
    batch = staff.get(f"/app/rewards/payouts/{withdrawn.batch_id}/").content.decode()
    assert 'data-testid="payout-cancel-reason">Referral back in review<' in batch
    tick(ordered + timedelta(days=11))
    assert payouts(tenant) == [(PayoutStatus.CANCELLED, 2000)]
    assert payable(api) == 0
    listed = api.get("/api/v1/rewards", {"participant": "boss"}).json()["results"]
    assert [(r["status"], r["hold_reason"]) for r in listed] == [("approved", "review")]
    assert portal_reward_state(api) == "Being checked"
    # The reviewer sees what the decision releases or loses, in yuan as the API has it.
    [amount] = [r["amount"]["amount_minor"] for r in listed]
    assert amount == 2000
    expected = ([("¥20 cash", "Approved Fraud review")], "¥20")
    assert staff_rewards(ops, f"/app/review/{reward.referral_id}/") == expected
    queue = staff.get("/app/review/").content.decode()
    row = queue.split(f'data-referral="{reward.referral_id}"')[1].split("</tr>")[0]
    assert 'data-testid="case-reward-money">¥20<' in row
    assert staff_rewards(ops, f"/app/referrals/{reward.referral_id}/") == expected

    with time_machine.travel(ordered + timedelta(days=12), tick=False):
        decide(tenant, ops, ["bob"], "approve")
    tick(ordered + timedelta(days=12))
    reward.refresh_from_db()
    assert (reward.status, reward.hold_reason) == ("approved", "")
    assert payouts(tenant) == [(PayoutStatus.CANCELLED, 2000), (PayoutStatus.REQUESTED, 2000)]
    assert payable(api) == 2000
    assert portal_reward_state(api) == "Approved, on its way"
    assert staff_rewards(ops, f"/app/review/{reward.referral_id}/") == (
        [("¥20 cash", "Approved ")],
        "¥20",
    )


def test_approved_cash_back_in_review_and_rejected_is_never_paid(tenant, api, ops):
    ordered = bob_back_in_review(tenant, api)
    with time_machine.travel(ordered + timedelta(days=12), tick=False):
        decide(tenant, ops, ["bob"], "reject")
    tick(ordered + timedelta(days=12))
    reward = bobs_reward(tenant)
    assert (reward.status, reward.blocked_reason) == ("rejected", "fraud")
    assert payouts(tenant) == [(PayoutStatus.CANCELLED, 2000)]
    assert [reason for _id, reason, _amount in cancelled_webhooks(tenant)] == ["review"]
    assert payable(api) == 0
    assert portal_reward_state(api) == "Not paid"
    assert staff_rewards(ops, f"/app/referrals/{reward.referral_id}/") == (
        [("¥20 cash", "Rejected ")],
        "",
    )


def test_a_refund_inside_the_clawback_window_withdraws_the_payout_as_reversed(tenant, api):
    bob_refunded_after_payout(tenant, api, clawback_days=30)
    assert bobs_reward(tenant).status == "reversed"
    assert payouts(tenant) == [(PayoutStatus.CANCELLED, 2000)]
    [requested] = Payout.objects.for_tenant(tenant)
    assert cancelled_webhooks(tenant) == [(requested.pk, "reversed", 2000)]
    assert payable(api) == 0


def tier_reward(tenant) -> Reward:
    return Reward.objects.for_tenant(tenant).get(reason="tier:five_bonus")


def test_a_tier_resting_on_a_referral_back_in_review_waits_and_is_paid_once_cleared(
    tenant, api, ops
):
    """A derived item counts only cleared referrals (SEMANTICS §10): the ¥300 tier that
    Bob's success earned is withdrawn with his ¥20 while he is back in review."""
    ordered = bob_refunded_after_payout(tenant, api, clawback_days=0, tier=True)
    tier = tier_reward(tenant)
    assert (tier.status, tier.hold_reason) == ("approved", "review")
    assert payouts(tenant) == [(PayoutStatus.CANCELLED, 2000), (PayoutStatus.CANCELLED, TIER_MINOR)]
    assert [(reason, amount) for _id, reason, amount in cancelled_webhooks(tenant)] == [
        ("review", 2000),
        ("review", TIER_MINOR),
    ]
    tick(ordered + timedelta(days=11))
    assert len(payouts(tenant)) == 2
    assert payable(api) == 0

    with time_machine.travel(ordered + timedelta(days=12), tick=False):
        decide(tenant, ops, ["bob"], "approve")
    tick(ordered + timedelta(days=12))
    tier.refresh_from_db()
    assert (tier.status, tier.hold_reason) == ("approved", "")
    assert sorted(payouts(tenant)[2:]) == [
        (PayoutStatus.REQUESTED, 2000),
        (PayoutStatus.REQUESTED, TIER_MINOR),
    ]
    assert payable(api) == 2000 + TIER_MINOR


def test_a_tier_resting_on_a_referral_back_in_review_and_rejected_is_never_paid(tenant, api, ops):
    ordered = bob_refunded_after_payout(tenant, api, clawback_days=0, tier=True)
    with time_machine.travel(ordered + timedelta(days=12), tick=False):
        decide(tenant, ops, ["bob"], "reject")
    tick(ordered + timedelta(days=12))
    assert tier_reward(tenant).status == "reversed"
    assert payouts(tenant) == [(PayoutStatus.CANCELLED, 2000), (PayoutStatus.CANCELLED, TIER_MINOR)]
    assert payable(api) == 0
