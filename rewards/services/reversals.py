"""Reversals: refunds, stages reversed inside their hold, fraud review and rejection,
staff clawbacks, and the derived items that counted a referral (SEMANTICS §5, §10)."""

from __future__ import annotations

from django.db import transaction

from referral_platform.core import clock
from referral_platform.core.audit import audit_log
from referral_platform.core.retry import retry_on_conflict
from referral_platform.webhooks.services import webhook_emit

from .. import engine_bridge, ledger, rules
from ..models import (
    HoldReason,
    LedgerAccount,
    LedgerEntry,
    LedgerEntryKind,
    PayoutCancelReason,
    Reward,
    RewardBasis,
    RewardStatus,
)
from .common import (
    AMBASSADOR,
    LIVE,
    UNRELEASED,
    _lock,
    _reserved,
    _slots_taken,
    payouts_withdraw,
    reward_payload,
)


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
    payouts_withdraw(
        tenant=reward.tenant, reward_ids=[reward.pk], reason=PayoutCancelReason.REVERSED, now=now
    )
    Reward.unscoped.filter(pk=reward.pk).update(
        status=RewardStatus.REVERSED,
        reversed_at=now,
        hold_reason="",
        reversed_amount_minor=reversed_amount
        if reversed_amount is not None
        else reward.amount_minor,
        # A reversal before due_at frees the cap slot (SEMANTICS §5 Caps); an item still
        # waiting in review never took one (an approved one back in review did).
        slot_freed=inside_hold
        or (reward.status == RewardStatus.PENDING and reward.hold_reason == HoldReason.REVIEW),
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
    if reward.details.get("status") == AMBASSADOR:
        webhook_emit(
            tenant=reward.tenant,
            type="ambassador.revoked",
            data={"reward": reward_payload(reward), "reason": reason},
        )
    return True


def _stage_of_item(spec: dict, rule_key: str) -> dict | None:
    for stage in spec.get("stages") or []:
        if any(item.get("key") == rule_key for item in stage.get("rewards") or []):
            return stage
    return None


def _success_stage(spec: dict) -> dict | None:
    return next((s for s in spec.get("stages") or [] if s.get("success")), None)


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
        Reward.unscoped.select_for_update(of=("self",))
        .select_related("tenant")
        .filter(tenant_id=referral.tenant_id, referral_id=referral.pk, status__in=LIVE)
    )
    for reward in rows:
        stage = _stage_of_item(spec, reward.rule_key) or success
        if stage is None or stage["key"] not in keys:
            continue
        if _reverse(reward, inside_hold=True, reason=f"stage_reversed:{stage['key']}", now=now):
            changed.append(reward)
    reversed_at = min((s.reversed_at for s in stages if s.reversed and s.reversed_at), default=now)
    changed += derived_rewards_reverse(
        referral=referral,
        occurred_at=reversed_at,
        reason=f"counted_stage_reversed:{referral.pk}",
        stage_keys=keys,
        now=now,
    )
    return changed


def derived_rewards_reverse(
    *, referral, occurred_at, reason: str, stage_keys=None, unreleased_lost=False, now=None
) -> list[Reward]:
    """Reverse the live derived items that counted `referral` (all of its stages, or only
    `stage_keys`): inside the item's hold → `reversed`; after it, clawed back only within the
    program's `clawback_days`, else kept (SEMANTICS §5 Refunds, §10 Derived items). With
    `unreleased_lost` (a fraud rejection) an item not yet fulfilled is reversed whatever its
    hold: nothing was handed over, and a cheater loses unreleased earnings (SCENARIOS B).
    Once: a reversed item is no longer live."""
    now = now or clock.now()
    basis = RewardBasis.unscoped.filter(tenant_id=referral.tenant_id, referral_id=referral.pk)
    if stage_keys is not None:
        basis = basis.filter(stage_key__in=list(stage_keys))
    ids = set(basis.values_list("reward_id", flat=True))
    if not ids:
        return []
    changed = []
    with transaction.atomic():
        rows = (
            Reward.unscoped.select_for_update(of=("self",))
            .select_related("tenant", "program")
            .filter(pk__in=ids, status__in=LIVE)
            .order_by("pk")
        )
        for reward in rows:
            version = reward.program.current_version
            spec = version.spec if version is not None else {}
            outcome = rules.refund_outcome(
                refund_occurred_at=occurred_at,
                due_at=reward.due_at,
                clawback_days=int(spec.get("clawback_days") or 0),
                purchase_amount_minor=None,
                refunded_total_minor=None,
                threshold_minor=None,
            )
            if unreleased_lost and reward.status in UNRELEASED:
                outcome = rules.REVERSE
            if outcome == rules.KEEP:
                continue
            if _reverse(reward, inside_hold=outcome == rules.REVERSE, reason=reason, now=now):
                changed.append(reward)
    return changed


def _derived_hold(referral, *, held: bool) -> int:
    """A counted referral back in review holds the unreleased derived items resting on it
    (a tier's cash, say), approved ones too, whose requested payouts are withdrawn; once no
    referral they rest on is in review, they return to their hold (pending) or go on to
    their fulfilment (approved: the next tick requests the payout again)."""
    ids = RewardBasis.unscoped.filter(
        tenant_id=referral.tenant_id, referral_id=referral.pk
    ).values_list("reward_id", flat=True)
    unreleased = Reward.unscoped.filter(pk__in=list(ids), status__in=UNRELEASED)
    if held:
        # Locked first: a fulfilment running now waits, then finds them held.
        approved = list(
            unreleased.filter(status=RewardStatus.APPROVED)
            .exclude(hold_reason=HoldReason.REVIEW)
            .select_for_update()
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        payouts_withdraw(
            tenant=referral.tenant,
            reward_ids=approved,
            reason=PayoutCancelReason.REVIEW,
            now=clock.now(),
        )
        return unreleased.update(hold_reason=HoldReason.REVIEW)
    count = 0
    for reward in unreleased.filter(hold_reason=HoldReason.REVIEW):
        if RewardBasis.unscoped.filter(reward=reward, referral__status="review").exists():
            continue
        if reward.status == RewardStatus.APPROVED:
            hold_reason = ""
        else:
            waiting_choice = bool(reward.options) and reward.chosen_at is None
            hold_reason = HoldReason.CHOICE if waiting_choice else HoldReason.HOLD
        count += Reward.unscoped.filter(pk=reward.pk).update(hold_reason=hold_reason)
    return count


@retry_on_conflict
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
                Reward.unscoped.select_for_update(of=("self",))
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


@retry_on_conflict
def refund_apply(*, referral, event, facts, spec: dict | None = None) -> list[Reward]:
    """Reverse what the refunded purchase earned while in its hold; claw back after the hold
    only within the program's `clawback_days`; a partial refund counts only when what remains
    falls below the stage's threshold. The purchases and refunds are read from `facts` (the
    referee's events, handed over by the flow: `pipeline.flow.refund_apply`)."""
    spec = spec if spec is not None else engine_bridge.referral_spec(referral)
    clawback_days = int(spec.get("clawback_days") or 0)

    def same_order(e) -> bool:
        return not event.order_id or e.order_id == event.order_id

    purchase = max(
        (
            e
            for e in facts.events
            if e.type == "purchase" and e.occurred_at <= event.occurred_at and same_order(e)
        ),
        key=lambda e: e.occurred_at,
        default=None,
    )
    refunded_total = None
    if (
        purchase is not None
        and purchase.amount_minor is not None
        and event.amount_minor is not None
    ):
        refunded_total = sum(
            int(e.amount_minor or 0) for e in facts.events if e.type == "refund" and same_order(e)
        )
    success = _success_stage(spec)
    now = clock.now()
    changed = []
    undone: set[str] = set()
    with transaction.atomic():
        _lock(referral.tenant_id, f"participant:{referral.referrer_id}")
        rows = (
            Reward.unscoped.select_for_update(of=("self",))
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
                undone.add(stage["key"])
        if undone:
            # The refund undid these stages of the referral: what counted them goes too.
            for stage in spec.get("stages") or []:
                if (stage.get("condition") or {}).get("after_stage") in undone:
                    undone.add(stage["key"])
            changed += derived_rewards_reverse(
                referral=referral,
                occurred_at=event.occurred_at,
                reason=f"refund:{event.pk}",
                stage_keys=undone,
                now=now,
            )
    return changed


@transaction.atomic
def rewards_hold_for_review(*, referral) -> int:
    """Nothing under review is released or paid out (fraud fails closed, SEMANTICS §10):
    pending rows wait until ops decides, and so do approved rows not yet fulfilled; their
    requested payouts are cancelled, so no batch pays them meanwhile. Approval requests
    them again (`rewards_release_after_review`); rejection rejects them."""
    rows = Reward.unscoped.filter(
        tenant_id=referral.tenant_id,
        referral_id=referral.pk,
        status__in=[RewardStatus.PENDING, RewardStatus.APPROVED],
    )
    # Locked first: a fulfilment running now waits, then finds them held.
    approved = list(
        rows.filter(status=RewardStatus.APPROVED)
        .exclude(hold_reason=HoldReason.REVIEW)
        .select_for_update()
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    payouts_withdraw(
        tenant=referral.tenant,
        reward_ids=approved,
        reason=PayoutCancelReason.REVIEW,
        now=clock.now(),
    )
    count = rows.update(hold_reason=HoldReason.REVIEW)
    count += _derived_hold(referral, held=True)
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


def _capped_after_review(referral, rows: list[Reward]) -> set[int]:
    """The rows of a referral just cleared from review whose cap slot was taken meanwhile by
    cleared referrals: a referral in review waits for its slot and takes none (SEMANTICS §10
    "Derived items"), so it gets one now only if one is left."""
    slotted = [r for r in rows if r.cap_slot]
    if not slotted:
        return set()
    spec = engine_bridge.referral_spec(referral)
    caps = {cap["key"]: cap for cap in spec.get("caps") or ()}
    taken = _slots_taken(referral, spec)
    by_slot: dict[tuple[str, str], list[Reward]] = {}
    for reward in slotted:
        by_slot.setdefault(rules.split_cap_slot(reward.cap_slot), []).append(reward)
    capped: set[int] = set()
    for (key, period), items in by_slot.items():
        cap = caps.get(key)
        if cap is None:
            continue
        used = taken.get((key, period), 0)
        if cap.get("measure", "count") == "count":
            over = used >= cap["limit"]
        else:
            over = used + sum(_reserved(r, spec) for r in items) > cap["limit"]
        if over:
            capped |= {r.pk for r in items}
    return capped


@transaction.atomic
def rewards_release_after_review(*, referral, actor=None) -> int:
    """Back to their hold (or choice); the release sweep pays them once due. An item whose
    cap slot cleared referrals took while this one waited is capped instead."""
    _lock(referral.tenant_id, f"participant:{referral.referrer_id}")
    # Approved rows held meanwhile go on to their fulfilment: the next tick's
    # `rewards.fulfil_approved` requests their payout again.
    approved = list(
        Reward.unscoped.filter(
            tenant_id=referral.tenant_id,
            referral_id=referral.pk,
            status=RewardStatus.APPROVED,
            hold_reason=HoldReason.REVIEW,
        ).values_list("pk", flat=True)
    )
    Reward.unscoped.filter(pk__in=approved).update(hold_reason="")
    rows = list(
        Reward.unscoped.select_for_update().filter(
            tenant_id=referral.tenant_id,
            referral_id=referral.pk,
            status=RewardStatus.PENDING,
            hold_reason=HoldReason.REVIEW,
        )
    )
    capped = _capped_after_review(referral, rows)
    count = 0
    for reward in rows:
        if reward.pk in capped:
            cap_key = rules.split_cap_slot(reward.cap_slot)[0]
            Reward.unscoped.filter(pk=reward.pk).update(
                status=RewardStatus.CAPPED,
                hold_reason="",
                cap_slot="",
                blocked_reason=f"cap:{cap_key}",
            )
            audit_log(
                tenant=referral.tenant,
                actor=None,
                action="reward.capped",
                target=reward,
                note=f"cap:{cap_key}",
                actor_label="system:rewards",
            )
            continue
        waiting_choice = bool(reward.options) and reward.chosen_at is None
        Reward.unscoped.filter(pk=reward.pk).update(
            hold_reason=HoldReason.CHOICE if waiting_choice else HoldReason.HOLD
        )
        count += 1
    count += len(approved) + _derived_hold(referral, held=False)
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
    payouts_withdraw(
        tenant=referral.tenant, reward_ids=ids, reason=PayoutCancelReason.REJECTED, now=now
    )
    Reward.unscoped.filter(pk__in=ids).update(
        status=RewardStatus.REJECTED,
        blocked_reason=(reason or "fraud")[:100],
        hold_reason="",
        slot_freed=True,
    )
    # What counted this referral (a tier, a season prize, a team, ambassador status) rested on
    # a referral that did not clear: reversed inside its hold, clawed back within
    # `clawback_days` (SEMANTICS §10 "Derived items").
    derived_rewards_reverse(
        referral=referral,
        occurred_at=now,
        reason=f"counted_referral_rejected:{referral.pk}",
        unreleased_lost=True,
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


@retry_on_conflict
def reward_clawback(*, reward_id: int, reason: str, actor=None) -> bool:
    """Staff (or a policy) takes back a fulfilled reward after its hold: a reversing ledger
    entry, never an edit. Running it twice is a no-op."""
    with transaction.atomic():
        reward = (
            Reward.unscoped.select_for_update(of=("self",))
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
