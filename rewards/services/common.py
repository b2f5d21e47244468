"""What every part of the money path shares: the live statuses, the row locks, the
reward as webhooks carry it."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from ..models import (
    Reward,
    RewardLock,
    RewardStatus,
)

LIVE = (RewardStatus.PENDING, RewardStatus.APPROVED, RewardStatus.FULFILLED)


UNRELEASED = (RewardStatus.PENDING, RewardStatus.APPROVED)


# `details.status` of the item that is a referrer's ambassador status (SCENARIOS, the guide).
AMBASSADOR = "ambassador"


# Cash at or below this goes in weekly batches; SCENARIOS A: "≤ ¥100 may go weekly".
WEEKLY_PAYOUT_MAX_MINOR = 10_000


def reward_payload(reward: Reward) -> dict:
    from ..selectors import reward_to_dict

    return reward_to_dict(reward)


def _lock(tenant_id: int, *keys: str) -> None:
    """Lock rows in a fixed (sorted) order so two syncs can never deadlock each other."""
    for key in sorted(set(keys)):
        try:
            with transaction.atomic():
                RewardLock.unscoped.get_or_create(tenant_id=tenant_id, key=key)
        except IntegrityError:
            pass  # created concurrently: it exists now, which is all we need
        RewardLock.unscoped.select_for_update().get(tenant_id=tenant_id, key=key)
