"""Every write of the money path. Transitions happen only here, under row locks or
conditional UPDATEs; the ledger is written in the same transaction as the transition
that earns it; webhooks go through the outbox in that transaction too."""

from __future__ import annotations

import secrets
import string
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from referral_platform.core import clock
from referral_platform.core.audit import audit_log
from referral_platform.core.calendar import period_key
from referral_platform.core.errors import Conflict, PermissionDenied, ValidationFailed
from referral_platform.webhooks.services import webhook_emit

from . import engine_bridge, ledger, notifications, rules
from .models import (
    BatchStatus,
    CouponCode,
    CouponPool,
    HoldReason,
    LedgerAccount,
    LedgerEntry,
    LedgerEntryKind,
    Payout,
    PayoutBatch,
    PayoutStatus,
    Redemption,
    Reward,
    RewardKind,
    RewardLock,
    RewardSettings,
    RewardStatus,
)

LIVE = (RewardStatus.PENDING, RewardStatus.APPROVED, RewardStatus.FULFILLED)
UNRELEASED = (RewardStatus.PENDING, RewardStatus.APPROVED)
# Cash at or below this goes in weekly batches; SCENARIOS A: "≤ ¥100 may go weekly".
WEEKLY_PAYOUT_MAX_MINOR = 10_000


# --- Serialisation for webhooks ----------------------------------------------------------


def reward_payload(reward: Reward) -> dict:
    from .selectors import reward_to_dict

    return reward_to_dict(reward)


# --- Locks -------------------------------------------------------------------------------


def _lock(tenant_id: int, *keys: str) -> None:
    """Lock rows in a fixed (sorted) order so two syncs can never deadlock each other."""
    for key in sorted(set(keys)):
        try:
            with transaction.atomic():
                RewardLock.unscoped.get_or_create(tenant_id=tenant_id, key=key)
        except IntegrityError:
            pass  # created concurrently: it exists now, which is all we need
        RewardLock.unscoped.select_for_update().get(tenant_id=tenant_id, key=key)


# --- Persisting the engine's decisions ---------------------------------------------------


def _reward_facts(referral, spec: dict) -> dict:
    """The facts rewards owns: cap slots of other referrals, this referral's cap state, the
    budget used, the options already chosen."""
    amount_caps = {c["key"] for c in spec.get("caps") or [] if c.get("measure") == "amount"}
    program_rows = Reward.unscoped.filter(
        tenant_id=referral.tenant_id, program_id=referral.program_id
    )
    live_slots = (
        program_rows.filter(participant_id=referral.referrer_id, slot_freed=False)
        .exclude(cap_slot="")
        .exclude(status__in=[RewardStatus.CAPPED, RewardStatus.REJECTED, RewardStatus.EXPIRED])
    )
    other = [
        {
            "referral_id": r.referral_id,
            "cap_slot": r.cap_slot,
            "reserved_minor": _reserved(r, spec),
        }
        for r in live_slots.exclude(referral_id=referral.pk)
    ]
    own = list(program_rows.filter(referral_id=referral.pk))
    cap_state: dict[str, str] = {}
    for r in own:
        if r.cap_slot and not r.slot_freed and r.status in LIVE:
            cap_state[rules.split_cap_slot(r.cap_slot)[0]] = "held"
        elif r.status == RewardStatus.CAPPED and r.blocked_reason.startswith("cap:"):
            cap_state.setdefault(r.blocked_reason[4:], "refused")
    budget_used = sum(
        _reserved(r, spec)
        for r in program_rows.exclude(referral_id=referral.pk).filter(
            status__in=LIVE, slot_freed=False
        )
    )
    chosen = {r.rule_key: r.details.get("chosen_option", "") for r in own if r.chosen_at}
    return {
        "slots_used": rules.slots_used(other, amount_caps=amount_caps),
        "cap_state": cap_state,
        "budget_used": budget_used,
        "chosen_options": chosen,
    }


def _reserved(reward: Reward, spec: dict) -> int:
    return rules.reserved_minor(
        kind=reward.kind,
        amount_minor=reward.amount_minor,
        points=reward.points,
        details=reward.details,
        options=reward.options,
        spec=spec,
    )


def _options(decision) -> list[dict]:
    out = []
    for option in decision.options or ():
        item = dict(option)
        item.setdefault("chosen", False)
        out.append(item)
    return out


def referral_rewards_sync(*, referral) -> list[Reward]:
    """Ask the engine what is due for `referral` now and write the rows that are missing;
    reverse the live rows of stages the engine says were reversed inside their hold (a
    refund, a cancellation, a class transfer). Idempotent: rows are written once (the
    unique key stops duplicates) and reversed once."""
    program_version = referral.program_version
    spec = engine_bridge.referral_spec(referral)
    tenant = referral.tenant
    created: list[Reward] = []
    now = clock.now()
    with transaction.atomic():
        keys = [f"participant:{referral.referrer_id}"]
        if spec.get("budget"):
            keys.append(f"program:{referral.program_id}")
        # Under this lock the slots counted below cannot be taken by another worker before
        # our rows are written: two workers never both take the last slot.
        _lock(tenant.pk, *keys)
        facts = engine_bridge.with_reward_facts(
            engine_bridge.referral_facts(referral), **_reward_facts(referral, spec)
        )
        stages = engine_bridge.evaluate_stages(spec, facts, now, tenant.calendar)
        if stages is not None:
            _stage_reversals_apply(referral, spec, stages, now)
        decisions = engine_bridge.evaluate_rewards(spec, facts, now, tenant.calendar)
        if not decisions:
            return []
        existing = set(
            Reward.unscoped.filter(
                tenant_id=tenant.pk, participant_id__in={d.beneficiary_id for d in decisions}
            ).values_list("participant_id", "scope", "reason")
        )
        in_review = referral.status == "review" or facts.fraud_decision == "review"
        # The program's holdout gets no reward (SEMANTICS §10).
        from analytics.selectors import holdout_members

        held_out = holdout_members(
            tenant=tenant,
            program=referral.program,
            participant_ids={d.beneficiary_id for d in decisions},
        )
        for d in decisions:
            if (d.beneficiary_id, d.scope, d.reason) in existing or d.beneficiary_id in held_out:
                continue
            reward = _reward_from_decision(tenant.pk, referral, program_version, d, in_review)
            try:
                with transaction.atomic():
                    reward.save()
            except IntegrityError:
                continue  # written by a concurrent period sweep: the key says it exists
            existing.add((d.beneficiary_id, d.scope, d.reason))
            created.append(reward)
            audit_log(
                tenant=tenant,
                actor=None,
                action="reward.created",
                target=reward,
                data={
                    "status": reward.status,
                    "reason": reward.reason,
                    "due_at": reward.due_at.isoformat() if reward.due_at else None,
                },
                actor_label="system:rewards",
            )
    return created


def _reversed_stage_keys(spec: dict, stages) -> set[str]:
    """Stages reversed inside their hold, and the stages after one of them (`after_stage`),
    which the engine then no longer reaches."""
    keys = {s.stage_key for s in stages if s.reversed}
    for stage in spec.get("stages") or []:
        if (stage.get("condition") or {}).get("after_stage") in keys:
            keys.add(stage["key"])
    return keys


def _stage_reversals_apply(referral, spec: dict, stages, now) -> list[Reward]:
    """A stage reversed inside its hold earns nothing: its live rows are reversed (even when
    already released, since the reversing event occurred inside the hold), freeing their
    cap slot. Items outside the stages (charity, bonuses, honor) ride on the success stage."""
    keys = _reversed_stage_keys(spec, stages)
    if not keys:
        return []
    success = _success_stage(spec)
    changed = []
    rows = (
        Reward.unscoped.select_for_update()
        .select_related("tenant")
        .filter(tenant_id=referral.tenant_id, referral_id=referral.pk, status__in=LIVE)
    )
    for reward in rows:
        stage = _stage_of_item(spec, reward.rule_key) or success
        if stage is None or stage["key"] not in keys:
            continue
        if _reverse(reward, inside_hold=True, reason=f"stage_reversed:{stage['key']}", now=now):
            changed.append(reward)
    return changed


def _reward_from_decision(tenant_id, referral, program_version, d, in_review: bool) -> Reward:
    status = (
        d.status
        if d.status in (RewardStatus.PENDING, RewardStatus.CAPPED, RewardStatus.REJECTED)
        else RewardStatus.PENDING
    )
    hold_reason = ""
    if status == RewardStatus.PENDING:
        hold_reason = HoldReason.REVIEW if in_review else (d.hold_reason or HoldReason.HOLD)
    return Reward(
        tenant_id=tenant_id,
        program_id=referral.program_id if referral is not None else program_version.program_id,
        program_version=program_version,
        participant_id=d.beneficiary_id,
        referral=referral if d.scope.startswith("referral:") else None,
        side=d.side,
        scope=d.scope,
        reason=d.reason,
        rule_key=d.rule_key,
        kind=d.kind,
        amount_minor=d.amount_minor,
        currency=d.currency if d.amount_minor is not None else (d.currency or ""),
        points=d.points,
        description=d.description[:300],
        options=_options(d),
        details=dict(d.details or {}),
        status=status,
        hold_reason=hold_reason,
        blocked_reason=d.blocked_reason,
        boost=d.boost,
        explanation=(d.explanation or "")[:500],
        due_at=d.due_at,
        choice_deadline=d.choice_deadline,
        expires_at=d.expires_at,
        cap_slot=rules.cap_slot_key(d.cap_slot) if status == RewardStatus.PENDING else "",
    )


def period_rewards_persist(*, tenant, program, decisions) -> list[Reward]:
    """Persist period-level decisions (tiers, seasons, lottery prizes, ladders): same key,
    same idempotence, no referral."""
    created = []
    version = program.current_version
    with transaction.atomic():
        _lock(tenant.pk, f"program:{program.pk}")
        for d in decisions:
            reward = _reward_from_decision(tenant.pk, None, version, d, False)
            reward.program_id = program.pk
            try:
                with transaction.atomic():
                    reward.save()
            except IntegrityError:
                continue
            created.append(reward)
    return created


def team_rewards_reverse(*, tenant, program, reversals) -> list[Reward]:
    """Reverse the live team items the engine no longer finds due (`TeamReversal`s): inside
    the item's hold → `reversed`; after it, clawed back only within the program's
    `clawback_days` (SEMANTICS §5 Refunds), else kept. Reversed once: a reversed row is no
    longer live, so running it again changes nothing."""
    clawback_days = int(program.spec.get("clawback_days") or 0)
    now = clock.now()
    changed = []
    with transaction.atomic():
        _lock(tenant.pk, f"program:{program.pk}")
        for r in reversals:
            reward = (
                Reward.unscoped.select_for_update()
                .select_related("tenant")
                .filter(
                    tenant_id=tenant.pk,
                    program_id=program.pk,
                    participant_id=r.beneficiary_id,
                    scope=r.scope,
                    reason=r.reason,
                    status__in=LIVE,
                )
                .first()
            )
            if reward is None:
                continue
            outcome = rules.refund_outcome(
                refund_occurred_at=r.reversed_at,
                due_at=reward.due_at,
                clawback_days=clawback_days,
                purchase_amount_minor=None,
                refunded_total_minor=None,
                threshold_minor=None,
            )
            if outcome == rules.KEEP:
                continue
            reason = f"team_reversed:{r.scope.removeprefix('team:')}"
            if _reverse(reward, inside_hold=outcome == rules.REVERSE, reason=reason, now=now):
                changed.append(reward)
    return changed


# --- Release and fulfilment --------------------------------------------------------------


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


def reward_fulfil(*, reward_id: int) -> str:
    """Hand an approved reward to its adapter. Safe to run twice: it acts only on
    `approved` under the row lock, and cash only once per live payout."""
    now = clock.now()
    with transaction.atomic():
        reward = (
            Reward.unscoped.select_for_update()
            .select_related("tenant")
            .filter(pk=reward_id)
            .first()
        )
        if reward is None or reward.status != RewardStatus.APPROVED:
            return "skipped"
        if reward.kind == RewardKind.CASH:
            return _payout_request(reward, now)
        if reward.kind == RewardKind.COUPON:
            reward.details = {**reward.details, "code": _coupon_code(reward)}
        _mark_fulfilled(reward, now)
    return "fulfilled"


def _payout_request(reward: Reward, now) -> str:
    if Payout.unscoped.filter(reward=reward).exclude(status=PayoutStatus.CANCELLED).exists():
        return "skipped"  # a live payout exists, or a failed one waits for staff
    cadence = rules.payout_cadence(int(reward.amount_minor or 0), WEEKLY_PAYOUT_MAX_MINOR)
    key = period_key(now, cadence, reward.tenant.calendar)
    batch, _ = PayoutBatch.unscoped.get_or_create(
        tenant_id=reward.tenant_id,
        program_id=reward.program_id,
        cadence=cadence,
        period_key=key,
        currency=reward.currency,
        defaults={"created_at": now},
    )
    if batch.status != BatchStatus.OPEN:
        batch = None
    payout = Payout.unscoped.create(
        tenant_id=reward.tenant_id,
        reward=reward,
        batch=batch,
        amount_minor=int(reward.amount_minor or 0),
        currency=reward.currency,
        created_at=now,
    )
    webhook_emit(
        tenant=reward.tenant,
        type="payout.requested",
        data={
            "payout": {
                "id": payout.pk,
                "amount": {"amount_minor": payout.amount_minor, "currency": payout.currency},
            },
            "reward": reward_payload(reward),
        },
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
    reward = Reward.unscoped.select_for_update().select_related("tenant").get(pk=payout.reward_id)
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
    reward = Reward.unscoped.select_for_update().select_related("tenant").get(pk=reward.pk)
    if reward.status != RewardStatus.APPROVED or reward.kind != RewardKind.CASH:
        raise Conflict(_("Only an approved cash reward can be paid out."))
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
    from .selectors import payout_batch_total

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


# --- Reversals, refunds, fraud ------------------------------------------------------------


def _reverse(reward: Reward, *, inside_hold: bool, reason: str, now) -> bool:
    """Reverse one locked reward. Fulfilled value gets a reversing ledger entry (points may
    go negative and net against future credits; cash nets in the next batch)."""
    if reward.status not in LIVE:
        return False
    entry_kind = LedgerEntryKind.REVERSAL if inside_hold else LedgerEntryKind.CLAWBACK
    reversed_amount = None
    if reward.status == RewardStatus.FULFILLED and (reward.amount_minor or reward.points):
        credit = LedgerEntry.unscoped.filter(
            reward_id=reward.pk, entry_kind=LedgerEntryKind.CREDIT
        ).first()
        # Points that already expired were never of use: only the rest is taken back. The
        # account's lock first, so the expiry sweep cannot write between read and entry.
        expired = 0
        if credit is not None and credit.points:
            LedgerAccount.unscoped.select_for_update().filter(
                tenant_id=reward.tenant_id, account=credit.account
            ).first()
            expired = -sum(
                LedgerEntry.unscoped.filter(
                    reward_id=reward.pk, entry_kind=LedgerEntryKind.EXPIRY
                ).values_list("points", flat=True)
            )
        if credit is not None and (credit.amount_minor or credit.points - expired):
            ledger.ledger_append(
                tenant_id=reward.tenant_id,
                account=credit.account,
                entry_kind=entry_kind,
                participant_id=reward.participant_id,
                reward_id=reward.pk,
                reward_kind=reward.kind,
                amount_minor=-credit.amount_minor,
                currency=credit.currency,
                points=-(credit.points - expired),
                memo=reason,
            )
            reversed_amount = credit.amount_minor
    Payout.unscoped.filter(reward=reward, status=PayoutStatus.REQUESTED).update(
        status=PayoutStatus.CANCELLED, settled_at=now
    )
    Reward.unscoped.filter(pk=reward.pk).update(
        status=RewardStatus.REVERSED,
        reversed_at=now,
        hold_reason="",
        reversed_amount_minor=reversed_amount
        if reversed_amount is not None
        else reward.amount_minor,
        # A reversal before due_at frees the cap slot (SEMANTICS §5 Caps).
        slot_freed=inside_hold,
    )
    reward.refresh_from_db()
    audit_log(
        tenant=reward.tenant,
        actor=None,
        action="reward.reversed",
        target=reward,
        note=reason,
        data={"clawback": not inside_hold},
        actor_label="system:rewards",
    )
    webhook_emit(
        tenant=reward.tenant,
        type="reward.reversed",
        data={"reward": reward_payload(reward), "clawback": not inside_hold, "reason": reason},
    )
    return True


def _stage_of_item(spec: dict, rule_key: str) -> dict | None:
    for stage in spec.get("stages") or []:
        if any(item.get("key") == rule_key for item in stage.get("rewards") or []):
            return stage
    return None


def _success_stage(spec: dict) -> dict | None:
    return next((s for s in spec.get("stages") or [] if s.get("success")), None)


def refund_apply(*, referral, event) -> list[Reward]:
    """Reverse what the refunded purchase earned while in its hold; claw back after the hold
    only within the program's `clawback_days`; a partial refund counts only when what remains
    falls below the stage's threshold."""
    from tracking.models import Event

    spec = engine_bridge.referral_spec(referral)
    clawback_days = int(spec.get("clawback_days") or 0)
    purchases = Event.unscoped.filter(
        tenant_id=referral.tenant_id,
        participant_id=referral.referee_id,
        type="purchase",
        occurred_at__lte=event.occurred_at,
    )
    if event.order_id:
        purchases = purchases.filter(order_id=event.order_id)
    purchase = purchases.order_by("-occurred_at").first()
    refunded_total = None
    if (
        purchase is not None
        and purchase.amount_minor is not None
        and event.amount_minor is not None
    ):
        refunds = Event.unscoped.filter(
            tenant_id=referral.tenant_id, participant_id=referral.referee_id, type="refund"
        )
        if event.order_id:
            refunds = refunds.filter(order_id=event.order_id)
        refunded_total = sum(int(e.amount_minor or 0) for e in refunds)
    success = _success_stage(spec)
    now = clock.now()
    changed = []
    with transaction.atomic():
        _lock(referral.tenant_id, f"participant:{referral.referrer_id}")
        rows = (
            Reward.unscoped.select_for_update()
            .select_related("tenant")
            .filter(tenant_id=referral.tenant_id, referral_id=referral.pk, status__in=LIVE)
        )
        for reward in rows:
            stage = _stage_of_item(spec, reward.rule_key) or success
            if stage is None or (stage.get("condition") or {}).get("event") != "purchase":
                continue
            if purchase is not None and purchase.occurred_at > (reward.due_at or now):
                continue  # anchored on an earlier stage than the refunded purchase
            outcome = rules.refund_outcome(
                refund_occurred_at=event.occurred_at,
                due_at=reward.due_at,
                clawback_days=clawback_days,
                purchase_amount_minor=purchase.amount_minor if purchase is not None else None,
                refunded_total_minor=refunded_total,
                threshold_minor=(stage.get("condition") or {}).get("min_amount"),
            )
            if outcome == rules.KEEP:
                continue
            if _reverse(
                reward, inside_hold=outcome == rules.REVERSE, reason=f"refund:{event.pk}", now=now
            ):
                changed.append(reward)
    return changed


@transaction.atomic
def rewards_hold_for_review(*, referral) -> int:
    """Nothing under review is released: pending rows wait until ops decides."""
    count = Reward.unscoped.filter(
        tenant_id=referral.tenant_id, referral_id=referral.pk, status=RewardStatus.PENDING
    ).update(hold_reason=HoldReason.REVIEW)
    if count:
        audit_log(
            tenant=referral.tenant,
            actor=None,
            action="rewards.held_for_review",
            target=referral,
            data={"count": count},
            actor_label="system:fraud",
        )
    return count


@transaction.atomic
def rewards_release_after_review(*, referral, actor=None) -> int:
    """Back to their hold (or choice); the release sweep pays them once due."""
    rows = Reward.unscoped.select_for_update().filter(
        tenant_id=referral.tenant_id,
        referral_id=referral.pk,
        status=RewardStatus.PENDING,
        hold_reason=HoldReason.REVIEW,
    )
    count = 0
    for reward in rows:
        waiting_choice = bool(reward.options) and reward.chosen_at is None
        Reward.unscoped.filter(pk=reward.pk).update(
            hold_reason=HoldReason.CHOICE if waiting_choice else HoldReason.HOLD
        )
        count += 1
    audit_log(
        tenant=referral.tenant,
        actor=actor,
        action="rewards.released_after_review",
        target=referral,
        data={"count": count},
    )
    return count


@transaction.atomic
def rewards_reject(*, referral, reason: str = "fraud", actor=None) -> int:
    """Unreleased earnings are lost; what was already fulfilled stays (a clawback is a
    separate, explicit decision)."""
    now = clock.now()
    rows = Reward.unscoped.select_for_update().filter(
        tenant_id=referral.tenant_id, referral_id=referral.pk, status__in=UNRELEASED
    )
    ids = [r.pk for r in rows]
    Payout.unscoped.filter(reward_id__in=ids, status=PayoutStatus.REQUESTED).update(
        status=PayoutStatus.CANCELLED, settled_at=now
    )
    Reward.unscoped.filter(pk__in=ids).update(
        status=RewardStatus.REJECTED,
        blocked_reason=(reason or "fraud")[:100],
        hold_reason="",
        slot_freed=True,
    )
    audit_log(
        tenant=referral.tenant,
        actor=actor,
        action="rewards.rejected",
        target=referral,
        note=reason,
        data={"count": len(ids)},
    )
    return len(ids)


# --- Choices ------------------------------------------------------------------------------

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
    reward = Reward.unscoped.select_for_update().select_related("tenant").get(pk=reward.pk)
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


# --- Coupon pools ---------------------------------------------------------------------------


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


# --- Settings -------------------------------------------------------------------------------


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
    from .models import NotificationOptOut

    NotificationOptOut.unscoped.get_or_create(tenant_id=tenant_id, participant_id=participant_id)


def reward_clawback(*, reward_id: int, reason: str, actor=None) -> bool:
    """Staff (or a policy) takes back a fulfilled reward after its hold: a reversing ledger
    entry, never an edit. Running it twice is a no-op."""
    with transaction.atomic():
        reward = (
            Reward.unscoped.select_for_update()
            .select_related("tenant")
            .filter(pk=reward_id)
            .first()
        )
        if reward is None or reward.status != RewardStatus.FULFILLED:
            return False
        done = _reverse(reward, inside_hold=False, reason=reason, now=clock.now())
        if done and actor is not None:
            audit_log(
                tenant=reward.tenant,
                actor=actor,
                action="reward.clawed_back",
                target=reward,
                note=reason,
            )
        return done


# --- Points redemption ----------------------------------------------------------------------

# What points can buy: a coupon is issued by the coupon adapter; a perk or a credit is an
# entitlement the tenant honours until `expires_at` (told by the `redemption.created` webhook).
REDEEMABLE_KINDS = (RewardKind.COUPON, RewardKind.PERK, RewardKind.CREDIT)


def points_redeem(
    *,
    participant,
    program,
    item_key: str,
    actor=None,
    actor_label: str | None = None,
    idempotency_key: str = "",
) -> Redemption:
    """Spend points on an item of `program`'s catalogue. Under the lock of the participant's
    ledger account: check the balance, write the debit, issue the item (a coupon code, or an
    entitlement), all in one transaction. Refused before anything is written when the item
    is unknown or the balance is short. The same `idempotency_key` returns the first
    redemption."""
    item = next((i for i in rules.points_catalogue(program.spec) if i["key"] == item_key), None)
    if item is None:
        msg = _("This program's catalogue has no item %(item)s.") % {"item": item_key}
        raise ValidationFailed(msg, code="unknown_item", fields={"item": [msg]})
    terms = item["reward"]
    if terms.get("kind") not in REDEEMABLE_KINDS:
        msg = _("This item cannot be redeemed.")
        raise ValidationFailed(msg, code="item_not_redeemable", fields={"item": [msg]})
    cost = int(item["points"])
    tenant_id = participant.tenant_id
    account = ledger.participant_account(participant.pk)
    now = clock.now()
    with transaction.atomic():
        # ledger_append locks this same head row, so while we hold it no credit, expiry or
        # second redemption can move the balance between our read and our debit. No head
        # means no entry ever: a zero balance, refused below without writing one.
        head = (
            LedgerAccount.unscoped.select_for_update()
            .filter(tenant_id=tenant_id, account=account)
            .first()
        )
        if idempotency_key:
            previous = Redemption.unscoped.filter(
                tenant_id=tenant_id, participant_id=participant.pk, idempotency_key=idempotency_key
            ).first()
            if previous is not None:
                if (previous.program_id, previous.item_key) != (program.pk, item_key):
                    raise Conflict(
                        _("This key was already used for another redemption."),
                        code="idempotency_key_conflict",
                    )
                return previous
        balance = ledger.balances(tenant_id, account).get("points", 0) if head else 0
        if balance < cost:
            raise Conflict(
                _("Not enough points: this item costs %(cost)s, the balance is %(balance)s.")
                % {"cost": cost, "balance": balance},
                code="insufficient_points",
            )
        entry = ledger.ledger_append(
            tenant_id=tenant_id,
            account=account,
            entry_kind=LedgerEntryKind.REDEMPTION,
            participant_id=participant.pk,
            reward_kind=RewardKind.POINTS,
            points=-cost,
            memo=f"redemption:{item_key}",
        )
        days = terms.get("valid_days") or terms.get("duration_days")
        amount = terms.get("amount")
        redemption = Redemption.unscoped.create(
            tenant_id=tenant_id,
            program=program,
            participant=participant,
            item_key=item_key,
            points=cost,
            kind=terms["kind"],
            amount_minor=amount,
            currency=program.currency if amount is not None else "",
            description=(terms.get("description") or "")[:300],
            details={k: terms[k] for k in _VALUE_KEYS if k in terms},
            expires_at=now + timedelta(days=int(days)) if days else None,
            ledger_entry=entry,
            idempotency_key=idempotency_key[:100],
            created_at=now,
        )
        if redemption.kind == RewardKind.COUPON:
            redemption.code = _coupon_code_issue(
                tenant_id=tenant_id,
                program_id=program.pk,
                rule_key=item_key,
                pattern="",
                assign={"redemption": redemption},
            )
            Redemption.unscoped.filter(pk=redemption.pk).update(code=redemption.code)
        audit_log(
            tenant=participant.tenant,
            actor=actor,
            actor_label=actor_label,
            action="points.redeemed",
            target=redemption,
            data={"program": program.slug, "item": item_key, "points": cost},
        )
        from .selectors import redemption_to_dict

        webhook_emit(
            tenant=participant.tenant,
            type="redemption.created",
            data={"redemption": redemption_to_dict(redemption)},
        )
    return redemption


def referral_notify(*, referral) -> None:
    """Email the referrer about a referral just created; sent after the caller commits."""
    notifications.referral_notify(referral=referral)
