"""Net cash (SEMANTICS §10): a referrer's balance, payable amount and every payout in the
API, the webhooks, the staff pages and the portal are net of clawbacks, and what is owed
back carries to the next payouts. End to end through the events API and `tick`."""

import csv
import io
from datetime import timedelta

import time_machine
from django.test import Client

from referral_platform.webhooks.models import WebhookEndpoint, WebhookMessage
from rewards.models import Payout, Reward
from tests.scenario import local, tick
from tests.test_e2e_derived_rewards import derived_spec, friend, referrer_code, refund


def _cash(tenant, name) -> Reward:
    return Reward.objects.for_tenant(tenant).get(
        referral__referee__external_id=name, reason="stage:per_success"
    )


def _payout(tenant, name) -> Payout:
    return (
        Payout.objects.for_tenant(tenant)
        .exclude(status="cancelled")
        .get(reward=_cash(tenant, name))
    )


def _pay(api, tenant, name):
    payout = _payout(tenant, name)
    answer = api.post(f"/api/v1/payouts/{payout.pk}/paid", {}, format="json")
    assert answer.status_code == 200, answer.content
    return answer.json()


def _balance(api, who="boss"):
    answer = api.get("/api/v1/balances", {"participant": who})
    assert answer.status_code == 200, answer.content
    [cny] = answer.json()["cash"]
    return {k: v["amount_minor"] for k, v in cny.items() if isinstance(v, dict)}


def test_a_clawback_is_kept_back_from_the_next_payouts_everywhere(tenant, api, owner):
    WebhookEndpoint.unscoped.create(
        tenant=tenant, url="https://hooks.example.com/in", secret="whsec_test", events=[]
    )
    code = referrer_code(tenant, api, derived_spec(clawback_days=30, tier_threshold=50))
    start = local(3, 2)
    with time_machine.travel(start, tick=False):
        friend(api, code, "ann", start)
        friend(api, code, "amy", start)
        tick()
    tick(start + timedelta(days=8))
    with time_machine.travel(start + timedelta(days=9), tick=False):
        _pay(api, tenant, "ann")
        _pay(api, tenant, "amy")
    assert _balance(api) == {"balance": 0, "payable": 0, "owed": 0, "earned": 4000, "paid": 4000}

    # Both orders refunded after the hold, within the 30 clawback days: ¥40 owed back.
    with time_machine.travel(start + timedelta(days=10), tick=False):
        refund(api, "ann", start + timedelta(days=10))
        refund(api, "amy", start + timedelta(days=10))
        tick()
    assert (_cash(tenant, "ann").status, _cash(tenant, "amy").status) == ("reversed", "reversed")
    assert _balance(api) == {
        "balance": -4000,
        "payable": 0,
        "owed": 4000,
        "earned": 0,
        "paid": 4000,
    }

    # The next success pays ¥0: its ¥20 is kept back; ¥20 is still owed, carried forward.
    later = start + timedelta(days=12)
    with time_machine.travel(later, tick=False):
        friend(api, code, "bob", later)
        tick()
    tick(later + timedelta(days=8))
    bob = _payout(tenant, "bob")
    assert (bob.amount_minor, bob.offset_minor, bob.gross_amount_minor) == (0, 2000, 2000)
    assert _balance(api) == {
        "balance": -4000,
        "payable": 0,
        "owed": 2000,
        "earned": 0,
        "paid": 4000,
    }
    listed = {p["id"]: p for p in api.get("/api/v1/payouts").json()["results"]}
    assert (
        listed[bob.pk]["amount"],
        listed[bob.pk]["gross_amount"],
        listed[bob.pk]["clawback_offset"],
    ) == (
        {"amount_minor": 0, "currency": "CNY"},
        {"amount_minor": 2000, "currency": "CNY"},
        {"amount_minor": 2000, "currency": "CNY"},
    )
    requested = WebhookMessage.objects.for_tenant(tenant).filter(type="payout.requested")
    hook = next(m.data for m in requested if m.data["payout"]["id"] == bob.pk)
    assert hook["payout"]["amount"] == {"amount_minor": 0, "currency": "CNY"}
    assert hook["payout"]["clawback_offset"] == {"amount_minor": 2000, "currency": "CNY"}

    # The staff pages: the batch shows what is paid and what was kept back; the reward
    # shows the participant's net cash; the CSV carries the net amount and the offset.
    staff = Client()
    staff.force_login(owner)
    page = staff.get(f"/app/rewards/payouts/{bob.batch_id}/").content.decode()
    row = page[page.index(f">{bob.pk}</a>") :].split("</tr>")[0]
    assert '¥0 <small class="text-secondary" data-testid="payout-offset">(¥20 kept back' in row
    detail = staff.get(f"/app/rewards/{bob.reward_id}/").content.decode()
    cash = detail[detail.index('data-testid="participant-cash"') :].split("</table>")[0]
    assert [cell.split("</td>")[0] for cell in cash.split("<td>")[1:4]] == ["-¥40", "¥0", "¥20"]
    exported = staff.get(f"/app/rewards/payouts/{bob.batch_id}/export.csv").content.decode()
    rows = {r["payout_id"]: r for r in csv.DictReader(io.StringIO(exported))}
    assert (rows[str(bob.pk)]["amount"], rows[str(bob.pk)]["status"]) == ("0.00", "requested")
    assert all(r["status"] != "clawback" for r in rows.values())  # netted, not listed twice

    # The portal: nothing on the way, ¥20 owed back.
    session = api.post("/api/v1/portal-sessions", {"participant": "boss"}, format="json")
    portal = Client()
    home = portal.get(session.json()["url"], follow=True).content.decode()
    assert 'data-testid="cash-pending">¥0<' in home
    assert 'data-testid="cash-owed">¥20<' in home

    with time_machine.travel(later + timedelta(days=9), tick=False):
        paid = _pay(api, tenant, "bob")
    assert paid["amount"] == {"amount_minor": 0, "currency": "CNY"}
    assert _balance(api) == {
        "balance": -2000,
        "payable": 0,
        "owed": 2000,
        "earned": 2000,
        "paid": 4000,
    }

    # The carried ¥20 is kept back from the next one; the one after is paid whole.
    last = later + timedelta(days=10)
    with time_machine.travel(last + timedelta(hours=5), tick=False):
        friend(api, code, "cat", last)
        friend(api, code, "dan", last + timedelta(hours=5))
        tick()
    tick(last + timedelta(days=8))
    cat, dan = _payout(tenant, "cat"), _payout(tenant, "dan")
    assert sorted([(cat.amount_minor, cat.offset_minor), (dan.amount_minor, dan.offset_minor)]) == [
        (0, 2000),
        (2000, 0),
    ]
    assert _balance(api) == {
        "balance": -2000,
        "payable": 2000,
        "owed": 0,
        "earned": 2000,
        "paid": 4000,
    }
