"""The rewards sweeps (SEMANTICS §0): time-based work over `due_at` columns, run by `tick`,
beat's `core.tick` and the embedded loop, after tracking's event sweep (order 10)."""

from __future__ import annotations

from django.db.models import Q

from referral_platform.core import clock

BATCH = 2000


def release_due() -> dict:
    from .models import HoldReason, Reward, RewardStatus
    from .services import reward_fulfil, reward_release

    now = clock.now()
    ids = list(
        Reward.unscoped.filter(status=RewardStatus.PENDING)
        .filter(Q(due_at__lte=now) | Q(due_at__isnull=True))
        .exclude(hold_reason=HoldReason.REVIEW)
        .order_by("due_at", "id")
        .values_list("pk", flat=True)[:BATCH]
    )
    released = fulfilled = 0
    for reward_id in ids:
        if reward_release(reward_id=reward_id):
            released += 1
            if reward_fulfil(reward_id=reward_id) == "fulfilled":
                fulfilled += 1
    return {"released": released, "fulfilled": fulfilled}


def fulfil_approved() -> dict:
    """Crash recovery: an approved reward whose fulfilment did not commit is fulfilled now;
    so is one whose referral was cleared after a review held it."""
    from .models import HoldReason, Reward, RewardKind, RewardStatus
    from .services import reward_fulfil

    ids = list(
        Reward.unscoped.filter(status=RewardStatus.APPROVED)
        .exclude(hold_reason=HoldReason.REVIEW)
        .exclude(
            Q(kind=RewardKind.CASH) & Q(payouts__isnull=False) & ~Q(payouts__status="cancelled")
        )
        .order_by("id")
        .values_list("pk", flat=True)
        .distinct()[:BATCH]
    )
    results: dict[str, int] = {}
    for reward_id in ids:
        outcome = reward_fulfil(reward_id=reward_id)
        results[outcome] = results.get(outcome, 0) + 1
    return results


def choice_nudges() -> int:
    """One reminder per reward waiting for a choice; the default applies at the deadline."""
    from .models import Reward, RewardStatus
    from .notifications import reward_notify

    now = clock.now()
    count = 0
    rows = Reward.unscoped.filter(
        status=RewardStatus.PENDING, chosen_at__isnull=True, choice_deadline__gt=now
    ).exclude(options=[])[:BATCH]
    for reward in rows:
        if (reward.details or {}).get("nudged_at"):
            continue
        updated = Reward.unscoped.filter(pk=reward.pk, chosen_at__isnull=True).update(
            details={**reward.details, "nudged_at": now.isoformat()}
        )
        if updated:
            reward_notify(reward=reward, event="choice_waiting")
            count += 1
    return count


def expire_unreleased() -> int:
    """Unreleased items past their `expires_at` expire (e.g. a prize never claimed): they
    never reached the beneficiary. A fulfilled item past its `expires_at` (a coupon or study
    fund not used in time) stays `fulfilled`: it was delivered, the tenant honours it until
    then, and the ledger keeps its credit. Only points are taken back, by
    `rewards.points_expiry`, as the program's points expiry says."""
    from .models import Reward, RewardStatus

    return Reward.unscoped.filter(status=RewardStatus.PENDING, expires_at__lte=clock.now()).update(
        status=RewardStatus.EXPIRED, hold_reason=""
    )


def tiers() -> int:
    from .sweeps import tiers_evaluate

    return tiers_evaluate()


def seasons() -> int:
    from .sweeps import seasons_close

    return seasons_close()


def lottery() -> dict:
    from .sweeps import lottery_run

    return lottery_run()


def teams() -> int:
    """After the event sweep, before release: team items due now are paid in the same run."""
    from .sweeps import teams_evaluate

    return teams_evaluate()


def ambassadors() -> int:
    """After the event sweep, before release: a status reached now is granted in the run."""
    from .sweeps import ambassadors_evaluate

    return ambassadors_evaluate()


def points_expiry() -> int:
    from .sweeps import points_expire

    return points_expire()
