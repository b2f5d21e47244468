"""Choices: the beneficiary picks an option, or donates the reward instead."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from referral_platform.core import clock
from referral_platform.core.audit import audit_log
from referral_platform.core.errors import Conflict, PermissionDenied, ValidationFailed

from ..models import (
    HoldReason,
    Reward,
    RewardKind,
    RewardStatus,
)
from .common import UNRELEASED

_VALUE_KEYS = (
    "percent_off",
    "max_amount",
    "min_spend",
    "valid_days",
    "duration_days",
    "estimated_value",
)


@transaction.atomic
def reward_choose(*, reward: Reward, option_index: int, actor_label: str) -> Reward:
    """The beneficiary's choice changes the row once; choosing again is a no-op."""
    reward = (
        Reward.unscoped.select_for_update(of=("self",)).select_related("tenant").get(pk=reward.pk)
    )
    if reward.chosen_at is not None:
        return reward
    if not reward.options:
        raise ValidationFailed(
            _("This reward offers no choice."), fields={"option": [_("No options.")]}
        )
    if reward.status not in UNRELEASED or (
        reward.status == RewardStatus.APPROVED and reward.kind != RewardKind.CASH
    ):
        raise Conflict(_("This reward can no longer be changed."), code="reward_released")
    if not 0 <= option_index < len(reward.options):
        raise ValidationFailed(_("Unknown option."), fields={"option": [_("Unknown option.")]})
    option = reward.options[option_index]
    _apply_option(reward, option)
    reward.options = [{**o, "chosen": i == option_index} for i, o in enumerate(reward.options)]
    reward.chosen_at = clock.now()
    if reward.hold_reason == HoldReason.CHOICE:
        reward.hold_reason = HoldReason.HOLD
    reward.save()
    audit_log(
        tenant=reward.tenant,
        actor=None,
        action="reward.chosen",
        target=reward,
        data={"option": option.get("key", option_index)},
        actor_label=actor_label,
    )
    return reward


def _apply_option(reward: Reward, option: dict) -> None:
    reward.kind = option.get("kind", reward.kind)
    amount = option.get("amount_minor", option.get("amount"))
    reward.amount_minor = int(amount) if amount is not None else None
    reward.currency = option.get("currency") or (reward.currency if amount is not None else "")
    reward.points = option.get("points")
    reward.description = (option.get("description") or reward.description)[:300]
    details = {k: v for k, v in reward.details.items() if k not in _VALUE_KEYS}
    details.update({k: option[k] for k in _VALUE_KEYS if k in option})
    details.update(option.get("details") or {})
    details["chosen_option"] = option.get("key", "")
    reward.details = details


def donation_allowed(reward: Reward) -> bool:
    spec = reward.program_version.spec if reward.program_version_id else {}
    return (
        bool(spec.get("charity"))
        and bool(reward.amount_minor)
        and reward.kind != RewardKind.DONATION
    )


@transaction.atomic
def reward_donate_instead(*, reward: Reward, actor_label: str) -> Reward:
    # Lock the reward row only: program_version is nullable, and PostgreSQL refuses FOR
    # UPDATE on the nullable side of an outer join.
    reward = (
        Reward.unscoped.select_for_update(of=("self",))
        .select_related("tenant", "program_version")
        .get(pk=reward.pk)
    )
    if reward.chosen_at is not None and reward.kind == RewardKind.DONATION:
        return reward
    if reward.status not in UNRELEASED or reward.chosen_at is not None:
        raise Conflict(_("This reward can no longer be changed."), code="reward_released")
    if not donation_allowed(reward):
        raise PermissionDenied(
            _("This program does not allow donating this reward."), code="donation_not_allowed"
        )
    reward.details = {**reward.details, "donated_from": reward.kind, "chosen_option": "donation"}
    reward.kind = RewardKind.DONATION
    reward.chosen_at = clock.now()
    if reward.hold_reason == HoldReason.CHOICE:
        reward.hold_reason = HoldReason.HOLD
    reward.save()
    audit_log(
        tenant=reward.tenant,
        actor=None,
        action="reward.donated",
        target=reward,
        actor_label=actor_label,
    )
    return reward
