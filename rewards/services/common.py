"""What every part of the money path shares: the live statuses, the row locks, the
reward as webhooks carry it."""

from __future__ import annotations

from referral_platform.core.audit import audit_log
from referral_platform.core.compiled import compiled
from referral_platform.webhooks.services import webhook_emit

from .. import rules
from ..models import (
    HoldReason,
    Payout,
    PayoutCancelReason,
    PayoutStatus,
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


def payouts_withdraw(*, tenant, reward_ids, reason: PayoutCancelReason, now) -> int:
    """Cancel the requested (unpaid) payouts of `reward_ids`, each with an audit entry and a
    `payout.cancelled` webhook giving `reason` (the referral is back in review, rejected,
    or the reward reversed): a tenant paying on `payout.requested` must not pay them.
    Returns how many were cancelled."""
    from ..selectors import payout_to_dict

    payouts = list(
        Payout.unscoped.select_for_update()
        .filter(tenant_id=tenant.pk, reward_id__in=list(reward_ids), status=PayoutStatus.REQUESTED)
        .order_by("pk")
    )
    for payout in payouts:
        payout.status, payout.settled_at, payout.cancel_reason = PayoutStatus.CANCELLED, now, reason
        payout.save(update_fields=["status", "settled_at", "cancel_reason"])
        audit_log(
            tenant=tenant,
            actor=None,
            action="payout.cancelled",
            target=payout,
            data={"reward": payout.reward_id, "reason": str(reason)},
            actor_label="system:rewards",
        )
        webhook_emit(
            tenant=tenant,
            type="payout.cancelled",
            data={"payout": payout_to_dict(payout), "reason": str(reason)},
        )
    return len(payouts)


def _lock(tenant_id: int, *keys: str) -> None:
    """Lock rows in a fixed (sorted) order so two syncs do not deadlock each other: all are
    locked in one `SELECT … ORDER BY key FOR UPDATE`, which takes the rows in that order.
    A key seen for the first time has no row yet: the missing rows are created (a conflict
    means another sync just did) and all are locked again. Only while a key's row is being
    created can two syncs over several keys take them in different orders; PostgreSQL then
    aborts one, and `retry_on_conflict` runs it again."""
    keys = sorted(set(keys))
    missing = set(keys) - set(_locked_keys(tenant_id=tenant_id, keys=keys))
    if missing:
        RewardLock.unscoped.bulk_create(
            [RewardLock(tenant_id=tenant_id, key=key) for key in sorted(missing)],
            ignore_conflicts=True,
        )
        _locked_keys(tenant_id=tenant_id, keys=keys)  # again: the rows made now (or by another)


@compiled
def _locked_keys(*, tenant_id: int, keys: list[str]):
    return (
        RewardLock.unscoped.select_for_update()
        .filter(tenant_id=tenant_id, key__in=keys)
        .order_by("key")
        .values_list("key", flat=True)
    )


def _reserved(reward: Reward, spec: dict) -> int:
    return rules.reserved_minor(
        kind=reward.kind,
        amount_minor=reward.amount_minor,
        points=reward.points,
        details=reward.details,
        options=reward.options,
        spec=spec,
    )


def _slots_taken(referral, spec: dict) -> dict[tuple[str, str], int]:
    """Cap slots taken by the referrer's *other* referrals that cleared fraud review: a
    referral in review waits and takes no slot until ops clears it (SEMANTICS §10 "Derived
    items": a cap's order counts cleared referrals only)."""
    amount_caps = {c["key"] for c in spec.get("caps") or [] if c.get("measure") == "amount"}
    rows = (
        Reward.unscoped.filter(
            tenant_id=referral.tenant_id,
            program_id=referral.program_id,
            participant_id=referral.referrer_id,
            slot_freed=False,
        )
        .exclude(cap_slot="")
        .exclude(referral_id=referral.pk)
        .exclude(status__in=[RewardStatus.CAPPED, RewardStatus.REJECTED, RewardStatus.EXPIRED])
        .exclude(status=RewardStatus.PENDING, hold_reason=HoldReason.REVIEW)
    )
    return rules.slots_used(
        [
            {
                "referral_id": r.referral_id,
                "cap_slot": r.cap_slot,
                "reserved_minor": _reserved(r, spec),
            }
            for r in rows
        ],
        amount_caps=amount_caps,
    )
