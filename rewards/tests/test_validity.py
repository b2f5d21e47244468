"""`expires_at` (SEMANTICS §5): while unreleased, the deadline after which `rewards.expire`
expires the item; once fulfilled, how long the item stays usable (its `valid_days` from
fulfilment), shown by the API and kept `fulfilled` past that date with its ledger credit."""

from dataclasses import replace
from datetime import datetime, timedelta

import pytest
import time_machine

from pipeline.flow import referral_rewards_sync
from referral_platform.core.periodic import run_all
from rewards import ledger
from rewards.models import Payout, Reward
from rewards.rules import valid_until
from rewards.services import payout_mark_paid
from rewards.tests import factories as f

T0 = datetime.fromisoformat("2026-03-02T10:00:00+00:00")
DUE = T0 + timedelta(days=7)
RELEASED = DUE + timedelta(minutes=1)


@pytest.mark.parametrize(
    ("kind", "details", "expected"),
    [
        ("credit", {"valid_days": 60}, datetime.fromisoformat("2026-05-08T10:01:00+00:00")),
        ("perk", {"valid_days": 30}, datetime.fromisoformat("2026-04-08T10:01:00+00:00")),
        ("coupon", {"valid_days": 14}, datetime.fromisoformat("2026-03-23T10:01:00+00:00")),
        ("coupon", {"min_spend": 12900}, None),
        ("credit", {"duration_days": 14}, None),
        ("cash", {"valid_days": 10}, None),
        ("donation", {"valid_days": 60}, None),
        ("lottery_ticket", {"valid_days": 7}, None),
        ("points", {"valid_days": 5}, None),
    ],
)
def test_an_item_is_valid_for_its_valid_days_from_fulfilment(kind, details, expected):
    assert valid_until(kind=kind, details=details, fulfilled_at=RELEASED) == expected


@pytest.fixture
def items(tenant, engine):
    """One referral earning a ¥100 study fund (credit, valid 60 days), a perk valid 30 days,
    ¥50 cash and 300 points, all due at DUE."""
    prog = f.program(tenant)
    ref = f.referral(tenant, prog)
    scope = f"referral:{ref.pk}"
    engine.answer = lambda facts: [
        f.decision(
            ref.referrer,
            scope,
            "study-fund",
            kind="credit",
            amount_minor=10000,
            due_at=DUE,
            details={"valid_days": 60},
        ),
        f.decision(
            ref.referrer, scope, "diagnosis", kind="perk", due_at=DUE, details={"valid_days": 30}
        ),
        f.decision(ref.referrer, scope, "cash", kind="cash", amount_minor=5000, due_at=DUE),
        f.decision(ref.referrer, scope, "points", points=300, due_at=DUE),
    ]
    with time_machine.travel(T0, tick=False):
        referral_rewards_sync(referral=ref)
    return ref


def _rows(tenant):
    return {r.rule_key: r for r in Reward.objects.for_tenant(tenant)}


def test_every_item_with_valid_days_gets_expires_at_when_fulfilled(tenant, api, items):
    # Nothing is valid "until" anything before it is handed over.
    assert {k: r.expires_at for k, r in _rows(tenant).items()} == dict.fromkeys(
        ("study-fund", "diagnosis", "cash", "points")
    )
    with time_machine.travel(RELEASED, tick=False):
        run_all()
        payout_mark_paid(payout=Payout.objects.for_tenant(tenant).get())
    rows = _rows(tenant)
    assert {k: (r.status, r.fulfilled_at, r.expires_at) for k, r in rows.items()} == {
        "study-fund": ("fulfilled", RELEASED, RELEASED + timedelta(days=60)),
        "diagnosis": ("fulfilled", RELEASED, RELEASED + timedelta(days=30)),
        "cash": ("fulfilled", RELEASED, None),
        "points": ("fulfilled", RELEASED, None),
    }
    listed = api.get("/api/v1/rewards", {"status": "fulfilled"}).json()["results"]
    assert {r["reason"]: r["expires_at"] for r in listed} == {
        "stage:study-fund": "2026-05-08T10:01:00+00:00",
        "stage:diagnosis": "2026-04-08T10:01:00+00:00",
        "stage:cash": None,
        "stage:points": None,
    }


def test_a_fulfilled_study_fund_past_its_validity_stays_fulfilled_with_its_ledger_credit(
    tenant, items
):
    with time_machine.travel(RELEASED, tick=False):
        run_all()
    fund = _rows(tenant)["study-fund"]
    account = ledger.participant_account(fund.participant_id)
    before = ledger.balances(tenant.pk, account)
    assert before == {"CNY": 10000, "points": 300}
    with time_machine.travel(RELEASED + timedelta(days=61), tick=False):
        run_all()
    fund.refresh_from_db()
    assert (fund.status, fund.expires_at) == ("fulfilled", RELEASED + timedelta(days=60))
    assert ledger.balances(tenant.pk, account) == before


def test_an_unreleased_item_past_its_deadline_expires_and_never_reaches_the_ledger(tenant, engine):
    prog = f.program(tenant)
    ref = f.referral(tenant, prog)
    prize = replace(
        f.decision(ref.referrer, f"referral:{ref.pk}", "prize", points=100, due_at=DUE),
        expires_at=T0 + timedelta(days=3),
    )
    engine.answer = lambda facts: [prize]
    with time_machine.travel(T0, tick=False):
        referral_rewards_sync(referral=ref)
    with time_machine.travel(T0 + timedelta(days=3), tick=False):
        run_all()
    row = Reward.objects.for_tenant(tenant).get()
    assert (row.status, row.hold_reason, row.fulfilled_at) == ("expired", "", None)
    assert ledger.balances(tenant.pk, ledger.participant_account(row.participant_id)) == {}
