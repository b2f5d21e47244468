"""Races against real PostgreSQL (row locks mean nothing on SQLite): two workers releasing
the same reward, two syncs competing for a referrer's last cap slot."""

import time
from datetime import datetime

import pytest
from django.db import connection

from pipeline.flow import referral_rewards_sync
from referral_platform.core.testing import race, require_or_skip
from referral_platform.webhooks.models import WebhookMessage
from rewards import engine_bridge
from rewards.models import LedgerEntry, Reward
from rewards.services import reward_fulfil, reward_release
from rewards.tests import factories as f

pytestmark = pytest.mark.django_db(transaction=True)

PAST = datetime.fromisoformat("2026-01-05T00:00:00+00:00")


@pytest.fixture(autouse=True)
def postgres_only():
    if connection.vendor != "postgresql":
        require_or_skip("row-lock races need PostgreSQL (set DATABASE_URL)")


def test_a_reward_released_by_several_workers_at_once_is_released_and_credited_once(
    tenant, settings
):
    from referral_platform.webhooks.services import webhook_endpoint_create

    settings.WEBHOOKS_ALLOW_PRIVATE = True
    webhook_endpoint_create(
        tenant=tenant, url="http://127.0.0.1:9/hook", events=["reward.approved"]
    )
    prog = f.program(tenant)
    ref = f.referral(tenant, prog)
    reward = Reward.unscoped.create(
        tenant=tenant,
        program=prog,
        participant=ref.referrer,
        referral=ref,
        side="referrer",
        scope=f"referral:{ref.pk}",
        reason="stage:x",
        kind="points",
        points=300,
        due_at=PAST,
        status="pending",
        hold_reason="hold",
    )

    def work(_):
        released = reward_release(reward_id=reward.pk)
        return released, reward_fulfil(reward_id=reward.pk)

    results = race(6, work)
    assert sorted(r[0] for r in results) == [False] * 5 + [True]
    assert sorted(r[1] for r in results).count("fulfilled") == 1
    reward.refresh_from_db()
    assert reward.status == "fulfilled"
    assert list(LedgerEntry.unscoped.filter(reward=reward).values_list("entry_kind", "points")) == [
        ("credit", 300)
    ]
    assert WebhookMessage.unscoped.filter(type="reward.approved").count() == 1


def test_two_syncs_racing_for_the_last_cap_slot_give_it_to_exactly_one(tenant, monkeypatch):
    cap = {"key": "monthly", "measure": "count", "limit": 2, "period": "month"}
    prog = f.program(tenant, spec={**f.SPEC, "caps": [cap]})
    referrer = f.participant(tenant)
    taken = f.referral(tenant, prog, referrer=referrer)
    racers = [f.referral(tenant, prog, referrer=referrer) for _ in range(4)]
    slot = ("monthly", "2026-01")

    def engine(spec, facts, now, cal):
        time.sleep(0.05)  # widen the window between reading the facts and writing the rows
        full = facts.slots_used.get(slot, 0) >= 2
        return [
            f.decision(
                referrer,
                f"referral:{facts.referral_id}",
                "paid-points",
                points=300,
                due_at=PAST,
                status="capped" if full else "pending",
                blocked_reason="cap:monthly" if full else "",
                cap_slot=None if full else slot,
            )
        ]

    monkeypatch.setattr(engine_bridge, "evaluate_rewards", engine)
    referral_rewards_sync(referral=taken)
    race(len(racers), lambda i: referral_rewards_sync(referral=racers[i]))
    statuses = sorted(Reward.unscoped.filter(referral__in=racers).values_list("status", flat=True))
    assert statuses == ["capped", "capped", "capped", "pending"]
    assert Reward.unscoped.filter(cap_slot="monthly|2026-01").count() == 2


def test_the_same_referral_synced_concurrently_writes_each_item_once(tenant, monkeypatch):
    prog = f.program(tenant)
    ref = f.referral(tenant, prog)

    def engine(spec, facts, now, cal):
        time.sleep(0.02)
        return [
            f.decision(ref.referrer, f"referral:{ref.pk}", k, points=1, due_at=PAST)
            for k in ("a", "b", "c")
        ]

    monkeypatch.setattr(engine_bridge, "evaluate_rewards", engine)
    created = race(5, lambda i: len(referral_rewards_sync(referral=ref)))
    assert sorted(created) == [0, 0, 0, 0, 3]
    assert Reward.unscoped.filter(referral=ref).count() == 3
