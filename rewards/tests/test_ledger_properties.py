"""The rewards state machine and its ledger against a plain model (hypothesis, stateful).

The rules drive the real services: the referral's rewards written by `referral_rewards_sync`
through the real rule engine, release, fulfilment, cash payouts (paid, failed, requested
again), the release sweep, refunds inside and after the hold, staff clawbacks, fraud review
and rejection (a referral back in review holds its approved items and withdraws their
payouts). The program pays each referrer ¥50.00 in cash and 300 points per success,
at most two successes per calendar month (tenant time), and the referee 100 points.

After every step: each participant's balance equals the sum of its entries and the model's;
every reward is in the model's state with exactly the entries the model expects (at most one
per kind); nothing fulfilled is reversed without a reversing entry; no cap holds more
cleared referrals than its limit (one in review takes no slot: it waits, and is capped on
release if the slot went meanwhile); the hash chain verifies.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import transaction
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from pipeline.flow import referral_rewards_sync, refund_apply
from programs.services import program_create
from referral_platform.core import calendar, clock
from referral_platform.core.errors import Conflict
from rewards import ledger
from rewards.models import LedgerEntry, Payout, Reward
from rewards.periodic import release_due
from rewards.services import (
    payout_mark_failed,
    payout_mark_paid,
    payout_request_again,
    reward_clawback,
    reward_fulfil,
    reward_release,
    rewards_hold_for_review,
    rewards_reject,
    rewards_release_after_review,
)
from rewards.tests import factories as f
from tracking.models import Referral

TZ = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 3, 2, 10, tzinfo=TZ)
HOLD = timedelta(days=7)
CLAWBACK_DAYS = 30
CAP_LIMIT = 2
CASH_MINOR = 5000
REFERRER_POINTS = 300
REFEREE_POINTS = 100
PURCHASE_MINOR = 12000
LIVE = {"pending", "approved", "fulfilled"}

SPEC = {
    "spec_version": 1,
    "slug": "books",
    "name": "Books",
    "status": "active",
    "starts_at": "2026-01-01T00:00:00+08:00",
    "currency": "CNY",
    "clawback_days": CLAWBACK_DAYS,
    "stages": [
        {
            "key": "paid",
            "label": "First order kept 7 days",
            "status": "converted",
            "success": True,
            "condition": {"event": "purchase", "min_amount": 9900},
            "hold": {"days": 7},
            "rewards": [
                {"key": "cash", "side": "referrer", "kind": "cash", "amount": CASH_MINOR},
                {"key": "miles", "side": "referrer", "kind": "points", "points": REFERRER_POINTS},
                {"key": "welcome", "side": "referee", "kind": "points", "points": REFEREE_POINTS},
            ],
        }
    ],
    "caps": [
        {"key": "monthly", "period": "month", "measure": "count", "limit": CAP_LIMIT},
    ],
}


@dataclass
class Item:
    """What the model knows about one reward row."""

    pk: int
    referral_id: int
    participant_id: int
    side: str
    kind: str
    amount_minor: int
    points: int
    due_at: datetime
    status: str
    cap_slot: str = ""
    slot_freed: bool = False
    in_review: bool = False
    credited: bool = False
    reversing: str = ""  # the reversing entry's kind, once written
    payout: str = ""  # "" (none live) | requested | failed | paid


class LedgerMachine(RuleBasedStateMachine):
    tenant = None
    program = None
    referrers: list = []

    def __init__(self):
        super().__init__()
        # Each example runs in a savepoint rolled back at teardown, on SQLite and PostgreSQL.
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        self._travel = time_machine.travel(START, tick=False)
        self._clock = self._travel.start()
        self.items: dict[int, Item] = {}
        # referral id → (referee, order id, purchased at)
        self.referrals: dict[int, tuple] = {}
        self.participants: set[int] = {p.pk for p in self.referrers}

    def teardown(self):
        self._travel.stop()
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)

    # --- the model -------------------------------------------------------------------------

    def _slot_holders(self, referrer_id: int, slot: str, *, other_than=None) -> set[int]:
        """Referrals holding the slot; one in review waits and holds none."""
        return {
            i.referral_id
            for i in self.items.values()
            if i.participant_id == referrer_id
            and i.cap_slot == slot
            and not i.slot_freed
            and not (i.status == "pending" and i.in_review)
            and i.status not in ("capped", "rejected", "expired")
            and i.referral_id != other_than
        }

    def _credit(self, item: Item) -> None:
        item.status, item.credited = "fulfilled", True

    def _fulfil(self, item: Item) -> str:
        if item.status != "approved":
            return "skipped"
        if item.in_review:
            return "held"
        if item.kind == "cash":
            if item.payout:
                return "skipped"
            item.payout = "requested"
            return "payout_requested"
        self._credit(item)
        return "fulfilled"

    def _releasable(self, item: Item) -> bool:
        return item.status == "pending" and not item.in_review and item.due_at <= clock.now()

    def _reverse(self, item: Item, *, inside_hold: bool) -> None:
        if item.credited:
            item.reversing = "reversal" if inside_hold else "clawback"
        if item.payout == "requested":
            item.payout = ""  # cancelled
        item.status, item.in_review, item.slot_freed = (
            "reversed",
            False,
            # An item waiting in review never took a slot; an approved one back in review did.
            inside_hold or (item.in_review and item.status == "pending"),
        )

    def _balance(self, participant_id: int) -> dict[str, int]:
        cny = points = 0
        for i in self.items.values():
            if i.participant_id != participant_id:
                continue
            # A credit, then possibly one reversing entry of the same value.
            times = int(i.credited) - int(bool(i.reversing))
            cny += times * (i.amount_minor if i.kind == "cash" else 0)
            points += times * i.points
        return {k: v for k, v in (("CNY", cny), ("points", points)) if v}

    # --- rules -----------------------------------------------------------------------------
    # Rules draw among the rows they can act on (and some they cannot, to check refusals),
    # so a short run still reaches payouts, clawbacks and caps.

    def _pick(self, data, items) -> Item:
        return data.draw(st.sampled_from(sorted(items, key=lambda i: i.pk)))

    def _with(self, *statuses: str) -> list[Item]:
        return [i for i in self.items.values() if i.status in statuses]

    def _cash_with(self, payout: str) -> list[Item]:
        return [i for i in self.items.values() if i.kind == "cash" and i.payout == payout]

    @initialize(referrers=st.lists(st.sampled_from([0, 1]), min_size=1, max_size=4))
    def first_referrals(self, referrers):
        for index in referrers:
            self.refer(index)

    @rule(referrer=st.sampled_from([0, 1]))
    def refer(self, referrer):
        referrer = self.referrers[referrer]
        now = clock.now()
        referee = f.participant(self.tenant)
        self.participants.add(referee.pk)
        referral = f.referral(
            self.tenant, self.program, referrer=referrer, referee=referee, created_at=now
        )
        order_id = f"o{referral.pk}"
        f.event(self.tenant, referee, "purchase", now, PURCHASE_MINOR, order_id=order_id)
        created = {r.rule_key: r for r in referral_rewards_sync(referral=referral)}

        due_at = now + HOLD
        slot = f"monthly|{calendar.period_key(due_at, 'month', self.tenant.calendar)}"
        fits = len(self._slot_holders(referrer.pk, slot)) < CAP_LIMIT
        expected = {
            "cash": ("referrer", "cash", CASH_MINOR, 0),
            "miles": ("referrer", "points", 0, REFERRER_POINTS),
            "welcome": ("referee", "points", 0, REFEREE_POINTS),
        }
        assert set(created) == set(expected)
        self.referrals[referral.pk] = (referee, order_id, now)
        for key, (side, kind, amount, points) in expected.items():
            row = created[key]
            capped = side == "referrer" and not fits
            assert (row.status, row.blocked_reason, row.due_at) == (
                "capped" if capped else "pending",
                "cap:monthly" if capped else "",
                due_at,
            )
            assert row.cap_slot == (slot if side == "referrer" and fits else "")
            self.items[row.pk] = Item(
                pk=row.pk,
                referral_id=referral.pk,
                participant_id=row.participant_id,
                side=side,
                kind=kind,
                amount_minor=amount,
                points=points,
                due_at=due_at,
                status=row.status,
                cap_slot=row.cap_slot,
            )

    @rule(hours=st.sampled_from([1, 20, 24 * 3, 24 * 7, 24 * 20, 24 * 45]), tick=st.booleans())
    def advance(self, hours, tick):
        self._clock.shift(timedelta(hours=hours))
        if tick:
            self.sweep()

    @precondition(lambda self: self._with("pending"))
    @rule(data=st.data())
    def release(self, data):
        item = self._pick(data, self._with("pending"))
        expected = self._releasable(item)
        assert reward_release(reward_id=item.pk) is expected
        if expected:
            item.status = "approved"

    @precondition(lambda self: self._with("approved", "fulfilled"))
    @rule(data=st.data())
    def fulfil(self, data):
        item = self._pick(data, self._with("approved", "fulfilled"))
        assert reward_fulfil(reward_id=item.pk) == self._fulfil(item)

    @rule()
    def sweep(self):
        """The periodic release job: releases what is due and fulfils it."""
        due = sorted(
            (i for i in self.items.values() if self._releasable(i)), key=lambda i: (i.due_at, i.pk)
        )
        fulfilled = 0
        for item in due:
            item.status = "approved"
            fulfilled += self._fulfil(item) == "fulfilled"
        assert release_due() == {"released": len(due), "fulfilled": fulfilled}

    @precondition(lambda self: self._cash_with("requested"))
    @rule(data=st.data(), paid=st.booleans())
    def payout_settles(self, data, paid):
        item = self._pick(data, self._cash_with("requested"))
        payout = Payout.unscoped.get(reward_id=item.pk, status="requested")
        if paid:
            payout_mark_paid(payout=payout)
            item.payout = "paid"
            self._credit(item)
        else:
            payout_mark_failed(payout=payout, reason="account closed")
            item.payout = "failed"

    @precondition(lambda self: self._cash_with("failed"))
    @rule(data=st.data())
    def request_payout_again(self, data):
        item = self._pick(data, self._cash_with("failed") + self._cash_with("paid"))
        reward = Reward.unscoped.get(pk=item.pk)
        if item.status != "approved" or item.payout == "paid" or item.in_review:
            with pytest.raises(Conflict):
                payout_request_again(reward=reward)
            return
        assert payout_request_again(reward=reward) == "payout_requested"
        item.payout = "requested"

    @precondition(lambda self: self._with(*LIVE))
    @rule(data=st.data(), days_late=st.sampled_from([0, 0, 3, 10]))
    def refund(self, data, days_late):
        """A refund of the whole order, reported now or late (dated up to 10 days back)."""
        pk = self._pick(data, self._with(*LIVE)).referral_id
        referee, order_id, purchased_at = self.referrals[pk]
        occurred_at = max(purchased_at, clock.now() - timedelta(days=days_late))
        refund = f.event(
            self.tenant, referee, "refund", occurred_at, PURCHASE_MINOR, order_id=order_id
        )
        changed = {r.pk for r in refund_apply(referral=self._referral(pk), event=refund)}
        expected = set()
        for item in self.items.values():
            if item.referral_id != pk or item.status not in LIVE:
                continue
            if occurred_at < item.due_at:
                self._reverse(item, inside_hold=True)
            elif occurred_at <= item.due_at + timedelta(days=CLAWBACK_DAYS):
                self._reverse(item, inside_hold=False)
            else:
                continue
            expected.add(item.pk)
        assert changed == expected

    @precondition(lambda self: self._with("fulfilled"))
    @rule(data=st.data())
    def clawback(self, data):
        item = self._pick(data, self._with("fulfilled", "reversed", "approved"))
        expected = item.status == "fulfilled"
        assert reward_clawback(reward_id=item.pk, reason="staff decision") is expected
        if expected:
            self._reverse(item, inside_hold=False)

    @precondition(lambda self: self._with("pending", "approved"))
    @rule(data=st.data())
    def review(self, data):
        """The referral goes (back) into review: nothing of it is released or paid out, and
        a payout requested for an approved item is withdrawn."""
        pk = self._pick(data, self._with("pending", "approved")).referral_id
        unreleased = [
            i
            for i in self.items.values()
            if i.referral_id == pk and i.status in ("pending", "approved")
        ]
        assert rewards_hold_for_review(referral=self._referral(pk)) == len(unreleased)
        for item in unreleased:
            item.in_review = True
            if item.payout == "requested":
                item.payout = ""  # cancelled

    @precondition(lambda self: any(i.in_review for i in self.items.values()))
    @rule(data=st.data())
    def review_passes(self, data):
        pk = self._pick(data, [i for i in self.items.values() if i.in_review]).referral_id
        held = [i for i in self.items.values() if i.referral_id == pk and i.in_review]
        # The slot the referral waited for may have gone to cleared referrals meanwhile.
        capped = [
            i
            for i in held
            if i.status == "pending"
            and i.cap_slot
            and len(self._slot_holders(i.participant_id, i.cap_slot, other_than=pk)) >= CAP_LIMIT
        ]
        assert rewards_release_after_review(referral=self._referral(pk)) == len(held) - len(capped)
        for item in held:
            item.in_review = False
        for item in capped:
            item.status, item.cap_slot = "capped", ""

    @precondition(lambda self: any(i.in_review for i in self.items.values()))
    @rule(data=st.data())
    def review_rejects(self, data):
        """Fraud rejects a referral under review: its unreleased rewards are lost."""
        pk = self._pick(data, [i for i in self.items.values() if i.in_review]).referral_id
        unreleased = [
            i
            for i in self.items.values()
            if i.referral_id == pk and i.status in ("pending", "approved")
        ]
        assert rewards_reject(referral=self._referral(pk), reason="fraud") == len(unreleased)
        for item in unreleased:
            item.status, item.in_review, item.slot_freed = "rejected", False, True
            if item.payout == "requested":
                item.payout = ""

    @precondition(lambda self: self.referrals)
    @rule(data=st.data())
    def sync_again(self, data):
        pk = data.draw(st.sampled_from(sorted(self.referrals)))
        assert referral_rewards_sync(referral=self._referral(pk)) == []

    def _referral(self, pk: int) -> Referral:
        return Referral.unscoped.select_related("program_version", "tenant").get(pk=pk)

    # --- invariants ------------------------------------------------------------------------

    @invariant()
    def balances_are_sums_of_entries_and_match_the_model(self):
        summed: dict[str, dict[str, int]] = {}
        for account, currency, amount, points in LedgerEntry.unscoped.filter(
            tenant=self.tenant
        ).values_list("account", "currency", "amount_minor", "points"):
            sums = summed.setdefault(account, {})
            if currency:
                sums[currency] = sums.get(currency, 0) + amount
            sums["points"] = sums.get("points", 0) + points
        for pid in self.participants:
            account = ledger.participant_account(pid)
            expected = self._balance(pid)
            if account not in summed and not expected:
                continue  # no entries, nothing owed: the common case, skipped for speed
            entries = {k: v for k, v in summed.get(account, {}).items() if v}
            assert ledger.balances(self.tenant.pk, account) == entries == expected

    @invariant()
    def every_reward_is_where_the_model_says_with_one_entry_per_kind(self):
        rows = {r.pk: r for r in Reward.unscoped.filter(tenant=self.tenant)}
        entries: dict[int, Counter] = {pk: Counter() for pk in rows}
        for reward_id, kind in LedgerEntry.unscoped.filter(tenant=self.tenant).values_list(
            "reward_id", "entry_kind"
        ):
            entries[reward_id][kind] += 1
        assert set(rows) == set(self.items)
        for pk, item in self.items.items():
            row, kinds = rows[pk], entries[pk]
            assert max(kinds.values(), default=1) == 1
            expected = ({"credit"} if item.credited else set()) | (
                {item.reversing} if item.reversing else set()
            )
            assert (row.status, row.hold_reason == "review", row.slot_freed, set(kinds)) == (
                item.status,
                item.in_review,
                item.slot_freed,
                expected,
            )
            if row.fulfilled_at is not None and row.status == "reversed":
                assert kinds["reversal"] + kinds["clawback"] == 1

    @invariant()
    def no_cap_holds_more_referrals_than_its_limit(self):
        holders: dict[tuple[int, str], set[int]] = {}
        live_slots = (
            Reward.unscoped.filter(tenant=self.tenant, slot_freed=False)
            .exclude(cap_slot="")
            .exclude(status__in=["capped", "rejected", "expired"])
            .exclude(status="pending", hold_reason="review")
        )
        for participant_id, slot, referral_id in live_slots.values_list(
            "participant_id", "cap_slot", "referral_id"
        ):
            holders.setdefault((participant_id, slot), set()).add(referral_id)
        assert all(len(ids) <= CAP_LIMIT for ids in holders.values())

    @invariant()
    def the_hash_chain_verifies(self):
        assert ledger.verify_ledger(self.tenant.pk) == []


def test_rewards_and_ledger_follow_the_model(tenant, owner):
    program = program_create(tenant=tenant, spec=SPEC, actor=owner)
    referrers = [f.participant(tenant, external_id=f"referrer-{n}") for n in range(2)]

    class Machine(LedgerMachine):
        pass

    Machine.tenant, Machine.program, Machine.referrers = tenant, program, referrers
    run_state_machine_as_test(
        Machine,
        settings=settings(
            max_examples=10,
            stateful_step_count=40,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
