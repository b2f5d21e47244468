"""Release and fulfilment: pending → approved when due, coupons issued, points and
credits booked, cash handed to payouts (net of what is owed back) and batches settled."""

from __future__ import annotations

import secrets
import string

from django.db import transaction
from django.utils.translation import gettext as _

from referral_platform.core import clock
from referral_platform.core.audit import audit_log
from referral_platform.core.calendar import period_key
from referral_platform.core.errors import Conflict, PermissionDenied, ValidationFailed
from referral_platform.core.retry import retry_on_conflict
from referral_platform.webhooks.services import webhook_emit

from .. import ledger, notifications, rules
from ..models import (
    BatchStatus,
    CouponCode,
    CouponPool,
    HoldReason,
    LedgerEntryKind,
    Payout,
    PayoutBatch,
    PayoutStatus,
    Reward,
    RewardKind,
    RewardSettings,
    RewardStatus,
)
from .common import WEEKLY_PAYOUT_MAX_MINOR, _lock, reward_payload


@retry_on_conflict
def reward_release(*, reward_id: int) -> bool:
    """pending → approved once its hold has passed (and its choice is made or overdue).
    The conditional UPDATE is the claim: of two workers, exactly one releases."""
    now = clock.now()
    with transaction.atomic():
        reward = Reward.unscoped.select_for_update().filter(pk=reward_id).first()
        if reward is None or reward.status != RewardStatus.PENDING:
            return False
        if not rules.release_ready(
            now=now,
            due_at=reward.due_at,
            hold_reason=reward.hold_reason,
            has_options=bool(reward.options),
            chosen=reward.chosen_at is not None,
            choice_deadline=reward.choice_deadline,
        ):
            return False
        claimed = (
            Reward.unscoped.filter(pk=reward.pk, status=RewardStatus.PENDING)
            .exclude(hold_reason=HoldReason.REVIEW)
            .update(status=RewardStatus.APPROVED, approved_at=now, hold_reason="")
        )
        if not claimed:
            return False
        reward.refresh_from_db()
        audit_log(
            tenant=reward.tenant,
            actor=None,
            action="reward.approved",
            target=reward,
            actor_label="system:rewards",
        )
        webhook_emit(
            tenant=reward.tenant, type="reward.approved", data={"reward": reward_payload(reward)}
        )
        notifications.reward_notify(reward=reward, event="approved")
    return True


def _coupon_code_issue(
    *, tenant_id: int, program_id: int, rule_key: str, pattern: str, assign: dict
) -> str:
    """The coupon adapter: a code from the pool the tenant uploaded for this item (program ×
    item key), assigned to the reward or redemption named in `assign`; without a pool, a
    code generated from `pattern`."""
    pool = CouponPool.unscoped.filter(
        tenant_id=tenant_id, program_id=program_id, rule_key=rule_key
    ).first()
    if pool is not None:
        # skip_locked: two workers issuing coupons at once take different codes.
        code = (
            CouponCode.unscoped.select_for_update(skip_locked=True)
            .filter(pool=pool, reward__isnull=True, redemption__isnull=True)
            .order_by("id")
            .first()
        )
        if code is None:
            raise Conflict(_("The coupon pool is empty."), code="coupon_pool_empty")
        CouponCode.unscoped.filter(pk=code.pk).update(assigned_at=clock.now(), **assign)
        return code.code
    alphabet = string.ascii_uppercase.replace("O", "").replace("I", "") + "23456789"
    return "".join(
        secrets.choice(alphabet) if ch == "X" else ch for ch in pattern or "RF-XXXX-XXXX"
    )


def _coupon_code(reward: Reward) -> str:
    return _coupon_code_issue(
        tenant_id=reward.tenant_id,
        program_id=reward.program_id,
        rule_key=reward.rule_key,
        pattern=(reward.details or {}).get("code_pattern") or "",
        assign={"reward": reward},
    )


def _credit(reward: Reward, *, memo: str = "") -> None:
    if reward.kind == RewardKind.LOTTERY_TICKET or (not reward.amount_minor and not reward.points):
        return
    if reward.kind == RewardKind.DONATION:
        account = ledger.charity_account(reward.program_id)
    else:
        account = ledger.participant_account(reward.participant_id)
    ledger.ledger_append(
        tenant_id=reward.tenant_id,
        account=account,
        entry_kind=LedgerEntryKind.CREDIT,
        participant_id=reward.participant_id,
        reward_id=reward.pk,
        reward_kind=reward.kind,
        amount_minor=int(reward.amount_minor or 0) if reward.kind != RewardKind.POINTS else 0,
        currency=reward.currency
        if reward.amount_minor and reward.kind != RewardKind.POINTS
        else "",
        points=int(reward.points or 0),
        memo=memo or reward.reason,
    )


def _mark_fulfilled(reward: Reward, now) -> None:
    """Every fulfilment ends here (coupon issued, points or credit granted, cash paid). From
    now on `expires_at` says how long the item stays usable (while unreleased it was the
    deadline of `rewards.expire`)."""
    reward.expires_at = rules.valid_until(
        kind=reward.kind, details=reward.details, fulfilled_at=now
    )
    Reward.unscoped.filter(pk=reward.pk).update(
        status=RewardStatus.FULFILLED,
        fulfilled_at=now,
        details=reward.details,
        expires_at=reward.expires_at,
    )
    reward.status, reward.fulfilled_at = RewardStatus.FULFILLED, now
    _credit(reward)
    audit_log(
        tenant=reward.tenant,
        actor=None,
        action="reward.fulfilled",
        target=reward,
        actor_label="system:rewards",
    )
    webhook_emit(
        tenant=reward.tenant, type="reward.fulfilled", data={"reward": reward_payload(reward)}
    )
    notifications.reward_notify(reward=reward, event="fulfilled")


@retry_on_conflict
def reward_fulfil(*, reward_id: int) -> str:
    """Hand an approved reward to its adapter. Safe to run twice: it acts only on
    `approved` under the row lock, and cash only once per live payout."""
    now = clock.now()
    with transaction.atomic():
        reward = (
            Reward.unscoped.select_for_update(of=("self",))
            .select_related("tenant")
            .filter(pk=reward_id)
            .first()
        )
        if reward is None or reward.status != RewardStatus.APPROVED:
            return "skipped"
        if reward.hold_reason == HoldReason.REVIEW:
            return "held"  # its referral went back into review: ops decides first
        if reward.kind == RewardKind.CASH:
            return _payout_request(reward, now)
        if reward.kind == RewardKind.COUPON:
            reward.details = {**reward.details, "code": _coupon_code(reward)}
        _mark_fulfilled(reward, now)
    return "fulfilled"


def _open_batch(reward: Reward, now) -> PayoutBatch:
    """The open batch of the reward's cadence for the period of `now`. Once that period's
    batch is approved or paid, cash released later in the period goes in a follow-on batch
    (2026-Q4-2, …), which staff approve in turn: every payout waits in a batch."""
    cadence = rules.payout_cadence(int(reward.amount_minor or 0), WEEKLY_PAYOUT_MAX_MINOR)
    key = period_key(now, cadence, reward.tenant.calendar)
    number = 1
    while True:
        batch, _ = PayoutBatch.unscoped.get_or_create(
            tenant_id=reward.tenant_id,
            program_id=reward.program_id,
            cadence=cadence,
            period_key=key if number == 1 else f"{key}-{number}",
            currency=reward.currency,
            defaults={"created_at": now},
        )
        if batch.status == BatchStatus.OPEN:
            return batch
        number += 1


def _payout_request(reward: Reward, now) -> str:
    if Payout.unscoped.filter(reward=reward).exclude(status=PayoutStatus.CANCELLED).exists():
        return "skipped"  # a live payout exists, or a failed one waits for staff
    batch = _open_batch(reward, now)
    from ..selectors import cash_owed_minor, payout_to_dict

    # Under the participant's lock no other payout can keep back the same debt.
    _lock(reward.tenant_id, f"participant:{reward.participant_id}")
    gross = int(reward.amount_minor or 0)
    offset = min(
        gross,
        cash_owed_minor(
            tenant_id=reward.tenant_id,
            participant_id=reward.participant_id,
            currency=reward.currency,
        ),
    )
    payout = Payout.unscoped.create(
        tenant_id=reward.tenant_id,
        reward=reward,
        batch=batch,
        amount_minor=gross - offset,
        offset_minor=offset,
        currency=reward.currency,
        created_at=now,
    )
    webhook_emit(
        tenant=reward.tenant,
        type="payout.requested",
        data={"payout": payout_to_dict(payout), "reward": reward_payload(reward)},
    )
    return "payout_requested"


def _payout_get_live(payout: Payout) -> Payout:
    payout = Payout.unscoped.select_for_update().get(pk=payout.pk)
    if payout.status != PayoutStatus.REQUESTED:
        raise Conflict(_("This payout is already settled."), code="payout_settled")
    return payout


@transaction.atomic
def payout_mark_paid(*, payout: Payout, actor=None, external_ref: str = "") -> Payout:
    payout = _payout_get_live(payout)
    now = clock.now()
    Payout.unscoped.filter(pk=payout.pk).update(
        status=PayoutStatus.PAID, settled_at=now, external_ref=external_ref[:200]
    )
    reward = (
        Reward.unscoped.select_for_update(of=("self",))
        .select_related("tenant")
        .get(pk=payout.reward_id)
    )
    if reward.status == RewardStatus.APPROVED:
        _mark_fulfilled(reward, now)
    audit_log(
        tenant=reward.tenant,
        actor=actor,
        action="payout.paid",
        target=payout,
        data={"reward": reward.pk},
    )
    payout.refresh_from_db()
    return payout


@transaction.atomic
def payout_mark_failed(*, payout: Payout, reason: str, actor=None) -> Payout:
    """A failed payout leaves the reward `approved`; staff can request it again."""
    payout = _payout_get_live(payout)
    Payout.unscoped.filter(pk=payout.pk).update(
        status=PayoutStatus.FAILED, settled_at=clock.now(), failure_reason=reason[:300]
    )
    audit_log(tenant=payout.tenant, actor=actor, action="payout.failed", target=payout, note=reason)
    payout.refresh_from_db()
    return payout


@transaction.atomic
def payout_request_again(*, reward: Reward, actor=None) -> str:
    reward = (
        Reward.unscoped.select_for_update(of=("self",)).select_related("tenant").get(pk=reward.pk)
    )
    if reward.status != RewardStatus.APPROVED or reward.kind != RewardKind.CASH:
        raise Conflict(_("Only an approved cash reward can be paid out."))
    if reward.hold_reason == HoldReason.REVIEW:
        raise Conflict(
            _("This reward's referral is being reviewed: it is paid out once it is approved.")
        )
    if Payout.unscoped.filter(
        reward=reward, status__in=[PayoutStatus.REQUESTED, PayoutStatus.PAID]
    ).exists():
        raise Conflict(_("A payout is already in progress."))
    Payout.unscoped.filter(reward=reward, status=PayoutStatus.FAILED).update(
        status=PayoutStatus.CANCELLED
    )
    audit_log(tenant=reward.tenant, actor=actor, action="payout.requested_again", target=reward)
    return _payout_request(reward, clock.now())


@transaction.atomic
def payout_batch_approve(*, batch: PayoutBatch, actor) -> PayoutBatch:
    """Above the tenant's threshold a batch needs two different approvers."""
    batch = PayoutBatch.unscoped.select_for_update().get(pk=batch.pk)
    if batch.status != BatchStatus.OPEN:
        raise Conflict(_("This batch is already approved."))
    from ..selectors import payout_batch_total

    settings_row = RewardSettings.unscoped.filter(tenant_id=batch.tenant_id).first()
    threshold = settings_row.second_approval_above_minor if settings_row else None
    needs_two = threshold is not None and payout_batch_total(batch) > threshold
    now = clock.now()
    if batch.approved_by_id is None:
        batch.approved_by = actor
        if not needs_two:
            batch.status, batch.approved_at = BatchStatus.APPROVED, now
    else:
        if batch.approved_by_id == getattr(actor, "pk", None):
            raise PermissionDenied(
                _("A second person must approve this batch."), code="second_approver_required"
            )
        batch.second_approved_by, batch.status, batch.approved_at = actor, BatchStatus.APPROVED, now
    batch.save(update_fields=["approved_by", "second_approved_by", "status", "approved_at"])
    audit_log(
        tenant=batch.tenant,
        actor=actor,
        action="payout_batch.approved",
        target=batch,
        data={"status": batch.status},
    )
    return batch


def payout_batch_mark_paid(*, batch: PayoutBatch, actor) -> int:
    if batch.status != BatchStatus.APPROVED:
        raise Conflict(_("Approve the batch before marking it paid."))
    count = 0
    for payout in Payout.unscoped.filter(batch=batch, status=PayoutStatus.REQUESTED):
        payout_mark_paid(payout=payout, actor=actor)
        count += 1
    PayoutBatch.unscoped.filter(pk=batch.pk).update(status=BatchStatus.PAID, paid_at=clock.now())
    return count


@transaction.atomic
def coupon_pool_upload(*, tenant, program, rule_key: str, codes: list[str], actor=None) -> int:
    pool, _ = CouponPool.unscoped.get_or_create(tenant=tenant, program=program, rule_key=rule_key)
    clean = list(dict.fromkeys(c.strip() for c in codes if c and c.strip()))
    if not clean:
        raise ValidationFailed(
            _("The file holds no codes."), fields={"file": [_("No codes found.")]}
        )
    existing = set(
        CouponCode.unscoped.filter(pool=pool, code__in=clean).values_list("code", flat=True)
    )
    new = [CouponCode(tenant=tenant, pool=pool, code=c[:100]) for c in clean if c not in existing]
    CouponCode.unscoped.bulk_create(new)
    audit_log(
        tenant=tenant,
        actor=actor,
        action="coupon_pool.uploaded",
        target=pool,
        data={"added": len(new)},
    )
    return len(new)


@transaction.atomic
def reward_settings_update(
    *, tenant, second_approval_above_minor: int | None, actor
) -> RewardSettings:
    row, _ = RewardSettings.unscoped.update_or_create(
        tenant=tenant, defaults={"second_approval_above_minor": second_approval_above_minor}
    )
    audit_log(
        tenant=tenant,
        actor=actor,
        action="reward_settings.updated",
        target=row,
        data={"second_approval_above_minor": second_approval_above_minor},
    )
    return row


def notifications_opt_out(*, tenant_id: int, participant_id: int) -> None:
    from ..models import NotificationOptOut

    NotificationOptOut.unscoped.get_or_create(tenant_id=tenant_id, participant_id=participant_id)


def referral_notices_batched():
    """A block inside which the referrers' emails about new referrals go out by one task a
    tenant after the commit (`notifications.referral_notices_batched`)."""
    return notifications.referral_notices_batched()


def referral_notify(*, referral) -> None:
    """Email the referrer about a referral just created; sent after the caller commits."""
    notifications.referral_notify(referral=referral)
