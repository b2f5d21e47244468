"""Derived items against random histories (hypothesis, stateful), end to end.

Referrals arrive through the events API, fraud holds some of them for review (a referee on
the referrer's company mail domain), ops approve or reject them, referees refund, a later
fraud check rejects referrals that had cleared, and the clock moves with `tick` running
every periodic job. The program pays ¥20 per success, a ¥300 tier at three successes in a
month and ambassador status at three cleared successes; `clawback_days` is long enough that
every rejection inside the run can still reach what was paid.

After every step: no derived item (tier, ambassador) is paid or payable — pending, approved
or fulfilled and not clawed back — while one of the referrals it counted is rejected or the
stage it counted was reversed; every derived item rests on exactly the referrals it counted,
all of which had cleared review when it was made; a fulfilled item taken back has exactly
one reversing entry. After every tick: each month with three cleared successes has its tier.
"""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import timedelta

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

from fraud.models import CaseStatus, ReviewCase
from pipeline.flow import review_decide
from programs.services import program_create
from referral_platform.core import calendar, clock
from rewards.models import LedgerEntry, Reward, RewardBasis
from rewards.services import rewards_reject
from tests.scenario import event, local, participant, tick
from tests.test_e2e_derived_rewards import derived_spec
from tracking.models import Referral, ReferralStage

THRESHOLD = 3
LIVE = ("pending", "approved", "fulfilled")
_ids = itertools.count(1)


class DerivedMachine(RuleBasedStateMachine):
    tenant = None
    api = None
    ops = None

    def __init__(self):
        super().__init__()
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        self._travel = time_machine.travel(local(3, 2), tick=False)
        self._clock = self._travel.start()
        self.run = next(_ids)
        self.code = ""
        self.names: list[str] = []
        self.refunded: set[str] = set()
        # reward id → the referral ids it counted, seen when it first appeared
        self.seen: dict[int, set[int]] = {}

    def teardown(self):
        self._travel.stop()
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)

    @initialize(
        colleagues=st.lists(st.sampled_from([False, False, True]), min_size=THRESHOLD, max_size=6),
        settle=st.sampled_from([True, True, False]),
    )
    def program(self, colleagues, settle):
        spec = derived_spec(
            clawback_days=365,
            tier_threshold=THRESHOLD,
            ambassador={"min_referrals": THRESHOLD, "min_retained_percent": 0},
        )
        program_create(tenant=self.tenant, spec=spec, actor=None)
        boss = f"boss-{self.run}"
        participant(self.api, boss, email=f"{boss}@acme-widgets.com")
        answer = self.api.post(
            "/api/v1/programs/friends/enrollments", {"participant": boss}, format="json"
        )
        self.code = answer.json()["code"]
        for colleague in colleagues:
            self.refer(colleague)
        if settle:  # every hold ends: what cleared counts from here on
            self.advance(24 * 8)

    def _referrals(self, **filters):
        return Referral.objects.for_tenant(self.tenant).filter(**filters)

    def _tick(self):
        tick()
        self._clock.shift(timedelta(minutes=2))
        self._record_new_items()

    def _record_new_items(self):
        """A derived item, when first seen, rests on referrals that all cleared review."""
        basis = RewardBasis.objects.for_tenant(self.tenant).exclude(reward_id__in=self.seen)
        for reward_id, referral_id, status in basis.values_list(
            "reward_id", "referral_id", "referral__status"
        ):
            self.seen.setdefault(reward_id, set()).add(referral_id)
            assert status not in ("review", "rejected") or (
                Reward.objects.for_tenant(self.tenant).get(pk=reward_id).status not in LIVE
            )

    @rule(colleague=st.booleans())
    def refer(self, colleague):
        name = f"r{self.run}-{len(self.names)}"
        self.names.append(name)
        now = clock.now()
        email = f"{name}@acme-widgets.com" if colleague else f"{name}@{name}-family.cn"
        who = {"external_id": name, "email": email}
        signup = now - timedelta(days=2, hours=3 * len(self.names))
        event(self.api, f"{name}-s", "signup", name, signup, referral={"code": self.code},
              participant=who)  # fmt: skip
        event(self.api, f"{name}-p", "purchase", name, now, order_id=f"o-{name}",
              amount={"amount_minor": 12900, "currency": "CNY"}, participant=who)  # fmt: skip
        self._tick()

    @rule(hours=st.sampled_from([6, 24 * 3, 24 * 8, 24 * 20]))
    def advance(self, hours):
        self._clock.shift(timedelta(hours=hours))
        self._tick()
        self._every_month_with_enough_cleared_successes_has_its_tier()

    @precondition(
        lambda self: (
            ReviewCase.objects.for_tenant(self.tenant).filter(status=CaseStatus.OPEN).exists()
        )
    )
    @rule(data=st.data(), approve=st.booleans())
    def review(self, data, approve):
        cases = ReviewCase.objects.for_tenant(self.tenant).filter(status=CaseStatus.OPEN)
        case = data.draw(st.sampled_from(sorted(cases, key=lambda c: c.pk)))
        review_decide(
            referral=self._referrals().get(pk=case.referral_id),
            decision="approve" if approve else "reject",
            actor=self.ops,
            note="checked",
        )

    @precondition(lambda self: set(self.names) - self.refunded)
    @rule(data=st.data())
    def refund(self, data):
        name = data.draw(st.sampled_from(sorted(set(self.names) - self.refunded)))
        self.refunded.add(name)
        event(self.api, f"{name}-r", "refund", name, clock.now(), order_id=f"o-{name}",
              amount={"amount_minor": 12900, "currency": "CNY"})  # fmt: skip
        self._tick()

    @precondition(lambda self: self.names)
    @rule(data=st.data())
    def later_fraud_rejection(self, data):
        """A later stage's fraud check rejects a referral, as fraud's service does."""
        live = self._referrals().exclude(status__in=["rejected", "review"]).order_by("pk")
        if not live.exists():
            return
        referral = data.draw(st.sampled_from(list(live)))
        self._referrals(pk=referral.pk).update(status="rejected")
        rewards_reject(referral=referral, reason="fraud")

    # --- invariants ------------------------------------------------------------------------

    @invariant()
    def nothing_derived_is_paid_on_a_rejected_referral_or_a_reversed_stage(self):
        for reward_id, status, referral_status in RewardBasis.objects.for_tenant(
            self.tenant
        ).values_list("reward_id", "reward__status", "referral__status"):
            if referral_status == "rejected":
                assert status not in LIVE, (reward_id, status)
        reversed_stages = set(
            ReferralStage.objects.for_tenant(self.tenant)
            .filter(reversed_at__isnull=False)
            .values_list("referral_id", "stage_key")
        )
        for status, referral_id, stage_key in RewardBasis.objects.for_tenant(
            self.tenant
        ).values_list("reward__status", "referral_id", "stage_key"):
            if (referral_id, stage_key) in reversed_stages:
                assert status not in LIVE

    @invariant()
    def every_derived_item_rests_on_what_it_counted(self):
        counted = Counter(
            RewardBasis.objects.for_tenant(self.tenant).values_list("reward_id", flat=True)
        )
        for reward in Reward.objects.for_tenant(self.tenant).filter(scope__startswith="period:"):
            if reward.reason == "tier:five_bonus":
                assert counted[reward.pk] == THRESHOLD
            else:
                assert counted[reward.pk] >= THRESHOLD
            assert self.seen.get(reward.pk, set()) == set(
                RewardBasis.objects.for_tenant(self.tenant)
                .filter(reward=reward)
                .values_list("referral_id", flat=True)
            )

    @invariant()
    def a_fulfilled_item_taken_back_has_one_reversing_entry(self):
        kinds: dict[int, Counter] = {}
        for reward_id, kind in LedgerEntry.objects.for_tenant(self.tenant).values_list(
            "reward_id", "entry_kind"
        ):
            kinds.setdefault(reward_id, Counter())[kind] += 1
        for reward in Reward.objects.for_tenant(self.tenant).filter(
            status="reversed", fulfilled_at__isnull=False
        ):
            entries = kinds.get(reward.pk, Counter())
            if entries["credit"]:
                assert entries["reversal"] + entries["clawback"] == 1

    def _every_month_with_enough_cleared_successes_has_its_tier(self):
        now = clock.now()
        months = Counter(
            calendar.period_key(due_at, "month", self.tenant.calendar)
            for due_at in ReferralStage.objects.for_tenant(self.tenant)
            .filter(reversed_at__isnull=True, due_at__lte=now - timedelta(minutes=3))
            .exclude(referral__status__in=["review", "rejected"])
            .values_list("due_at", flat=True)
        )
        tiers = set(
            Reward.objects.for_tenant(self.tenant)
            .filter(reason="tier:five_bonus")
            .values_list("scope", flat=True)
        )
        for month, count in months.items():
            if count >= THRESHOLD:
                assert f"period:{month}" in tiers, (month, count, tiers)


def test_no_derived_item_is_paid_on_a_referral_that_did_not_clear(tenant, api, ops):
    class Machine(DerivedMachine):
        pass

    Machine.tenant, Machine.api, Machine.ops = tenant, api, ops
    run_state_machine_as_test(
        Machine,
        settings=settings(
            max_examples=7,
            stateful_step_count=10,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
