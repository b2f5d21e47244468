"""Grants: the engine's decisions for a referral or a period persisted as reward rows,
once, under the referrer's lock (caps, budgets); derived items keep what they counted."""

from __future__ import annotations

from dataclasses import replace

from django.db import IntegrityError, connection, models, transaction

from programs.holdout import holdout_members
from referral_platform.core import clock
from referral_platform.core.audit import audit_entry, audit_log_all
from referral_platform.core.compiled import compiled
from referral_platform.core.retry import retry_on_conflict
from referral_platform.webhooks.services import webhook_emit

from .. import engine_bridge, rules
from ..models import (
    HoldReason,
    Reward,
    RewardBasis,
    RewardStatus,
)
from .common import AMBASSADOR, LIVE, _lock, _slots_taken, reward_payload
from .reversals import _stage_reversals_apply


def _own_rewards(referral) -> list[Reward]:
    """The referral's rewards: every row of its scope (`referral:<pk>`) and no other."""
    return _rewards_of(
        tenant_id=referral.tenant_id, program_id=referral.program_id, referral_id=referral.pk
    )


@compiled
def _rewards_of(*, tenant_id: int, program_id: int, referral_id: int):
    return Reward.unscoped.filter(
        tenant_id=tenant_id, program_id=program_id, referral_id=referral_id
    )


def _reward_facts(referral, spec: dict, own: list[Reward]) -> dict:
    """The facts rewards owns: cap slots of other referrals, this referral's cap state (from
    its rewards, `own`), the budget used, the options already chosen."""
    cap_state: dict[str, str] = {}
    for r in own:
        if r.cap_slot and not r.slot_freed and r.status in LIVE:
            cap_state[rules.split_cap_slot(r.cap_slot)[0]] = "held"
        elif r.status == RewardStatus.CAPPED and r.blocked_reason.startswith("cap:"):
            cap_state.setdefault(r.blocked_reason[4:], "refused")
    chosen = {r.rule_key: r.details.get("chosen_option", "") for r in own if r.chosen_at}
    return {
        # Only a cap reads the slots taken (`programs.engine.rewards._apply_caps`).
        "slots_used": _slots_taken(referral, spec) if spec.get("caps") else {},
        "cap_state": cap_state,
        "budget_used": _budget_used(referral, spec),
        "chosen_options": chosen,
        "company_referred_before": bool(spec.get("first_team_of_company_only"))
        and _company_referred_before(referral),
    }


def _budget_used(referral, spec: dict) -> int:
    """What the program's other live rewards reserve against its budget. Read only when the
    program has a budget: it is one row per reward of the program, and a program without one
    would pay that read on every event for nothing."""
    if spec.get("budget") is None:
        return 0
    rows = Reward.unscoped.filter(
        tenant_id=referral.tenant_id, program_id=referral.program_id
    ).exclude(referral_id=referral.pk)
    fields = ("kind", "amount_minor", "points", "details", "options")
    return sum(
        rules.reserved_minor(**dict(zip(fields, values, strict=True)), spec=spec)
        for values in rows.filter(status__in=LIVE, slot_freed=False).values_list(*fields)
    )


def _company_key(participant) -> str:
    """A referee's company: its `company_id` (SEMANTICS §6), else its email domain unless
    that is a free-mail provider (SEMANTICS §3); "" when it has none."""
    from referral_platform.core.identity import is_free_mail_domain

    company_id = str((participant.attributes or {}).get("company_id") or "").strip().lower()
    if company_id:
        return f"id:{company_id}"
    domain = (participant.email_domain or "").lower()
    return f"domain:{domain}" if domain and not is_free_mail_domain(domain) else ""


def _same_company_referrals(referrals, key: str):
    """Of `referrals`, the not rejected ones whose referee may be of company `key` (narrowed
    in the database; `_company_key` decides)."""
    kind, _sep, value = key.partition(":")
    referrals = referrals.exclude(status="rejected").select_related("referee")
    if kind == "id":
        return referrals.filter(referee__attributes__company_id__isnull=False)
    return referrals.filter(referee__email_domain__iexact=value)


def _company_referred_before(referral) -> bool:
    """Whether an earlier referral of the program (not rejected) has a referee of the same
    company as this one's: only the first referred team of a company counts (SCENARIOS A)."""
    from tracking.models import Referral

    key = _company_key(referral.referee)
    if not key:
        return False
    earlier = (
        Referral.unscoped.filter(tenant_id=referral.tenant_id, program_id=referral.program_id)
        .exclude(pk=referral.pk)
        .filter(
            models.Q(created_at__lt=referral.created_at)
            | models.Q(created_at=referral.created_at, pk__lt=referral.pk)
        )
    )
    return any(_company_key(r.referee) == key for r in _same_company_referrals(earlier, key))


def later_company_referrals(*, tenant_id, program_id, referral_ids) -> set[int]:
    """Of `referral_ids`, those whose referee's company was referred earlier in the program
    (`_company_referred_before`, for many at once): with `first_team_of_company_only` they
    earn nothing and count toward nothing derived (SCENARIOS A, SEMANTICS §10)."""
    from tracking.models import Referral

    program_referrals = Referral.unscoped.filter(tenant_id=tenant_id, program_id=program_id)
    keys: dict[str, set[int]] = {}
    for referral in program_referrals.filter(pk__in=list(referral_ids)).select_related("referee"):
        key = _company_key(referral.referee)
        if key:
            keys.setdefault(key, set()).add(referral.pk)
    later: set[int] = set()
    for key, ids in keys.items():
        first = min(
            (
                (r.created_at, r.pk)
                for r in _same_company_referrals(program_referrals, key)
                if _company_key(r.referee) == key
            ),
            default=None,
        )
        later |= {pk for pk in ids if first is not None and pk != first[1]}
    return later


def _options(decision) -> list[dict]:
    out = []
    for option in decision.options or ():
        item = dict(option)
        item.setdefault("chosen", False)
        out.append(item)
    return out


@retry_on_conflict
def referral_rewards_sync(
    *, referral, facts, stages, spec: dict | None = None, new: bool = False
) -> list[Reward]:
    """Ask the engine what is due for `referral` now and write the rows that are missing;
    reverse the live rows of stages the engine says were reversed inside their hold (a
    refund, a cancellation, a class transfer). Idempotent: rows are written once (the
    unique key stops duplicates) and reversed once.

    `facts` are tracking's facts with fraud's decision and `stages` the engine's stage
    decisions for them, both computed once by the flow (`pipeline.flow`) and handed over;
    rewards adds only the facts it owns, under its lock (a referral's rewards alone:
    `pipeline.flow.referral_rewards_sync`). A `new` referral, created in the caller's
    transaction, has no rewards yet to read."""
    spec = spec if spec is not None else engine_bridge.referral_spec(referral)
    tenant = referral.tenant
    now = clock.now()
    # Its own transaction when called alone; in a caller's, no savepoint: nothing catches
    # a failure here and carries on, so the caller's rollback is ours.
    with transaction.atomic(savepoint=False):
        keys = [f"participant:{referral.referrer_id}"]
        if spec.get("budget"):
            keys.append(f"program:{referral.program_id}")
        # Under this lock the slots counted below cannot be taken by another worker before
        # our rows are written: two workers never both take the last slot.
        _lock(tenant.pk, *keys)
        own = [] if new else _own_rewards(referral)
        facts = engine_bridge.with_reward_facts(facts, **_reward_facts(referral, spec, own))
        _stage_reversals_apply(referral, spec, stages, now)
        decisions = engine_bridge.evaluate_rewards(spec, facts, now, tenant.calendar)
        if not decisions:
            return []
        existing = _keys_written(referral, decisions, own)
        in_review = referral.status == "review" or facts.fraud_decision == "review"
        # The program's holdout gets no reward (SEMANTICS §10).
        held_out = holdout_members(referral.program, {d.beneficiary_id for d in decisions})
        due = []
        for d in decisions:
            key = (d.beneficiary_id, d.scope, d.reason)
            if key in existing or d.beneficiary_id in held_out:
                continue
            existing.add(key)
            due.append(
                _reward_from_decision(
                    tenant.pk,
                    referral,
                    d,
                    in_review,
                    program_id=referral.program_id,
                    version_id=referral.program_version_id,
                )
            )
        # Rows of the referral's own scope are written only by its syncs, which all hold its
        # referrer's lock: nobody can have written one meanwhile. Another scope's (a tier)
        # may have been, by a period sweep.
        own_scope = f"referral:{referral.pk}"
        created = _rewards_write(due, contested=any(r.scope != own_scope for r in due))
        audit_log_all(
            [
                audit_entry(
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
                for reward in created
            ]
        )
    return created


def _keys_written(referral, decisions, own: list[Reward]) -> set[tuple]:
    """The keys already written among the decisions' (not all a busy referrer's): those of
    the referral's own scope from its rows (`own`), any other scope's (a period's tier) read."""
    keys = {(r.participant_id, r.scope, r.reason) for r in own}
    others = {d.scope for d in decisions} - {f"referral:{referral.pk}"}
    if others:
        keys |= set(
            Reward.unscoped.filter(
                tenant_id=referral.tenant_id,
                participant_id__in={d.beneficiary_id for d in decisions},
                scope__in=others,
            ).values_list("participant_id", "scope", "reason")
        )
    return keys


def _rewards_write(rewards: list[Reward], *, contested: bool = True) -> list[Reward]:
    """Insert `rewards` in one statement and return them. If one was written meanwhile by a
    concurrent period sweep (its unique key says so), each is written alone and that one is
    left out. Rows nobody else can be writing (not `contested`) need no savepoint."""
    if not rewards:
        return []
    if connection.features.can_return_rows_from_bulk_insert:
        if not contested:
            return Reward.unscoped.bulk_create(rewards)
        try:
            with transaction.atomic():
                return Reward.unscoped.bulk_create(rewards)
        except IntegrityError:
            pass
    written = []
    for reward in rewards:
        try:
            with transaction.atomic():
                reward.save(force_insert=True)
        except IntegrityError:
            continue
        written.append(reward)
    return written


def _reward_from_decision(
    tenant_id, referral, d, in_review: bool, *, program_id: int, version_id: int | None
) -> Reward:
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
        program_id=program_id,
        program_version_id=version_id,
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


def _tier_earned_again(tenant_id, d):
    """`d` with the scope it is written under, or None when it is already written.

    A tier is one item per period (`period:<key>`); one reversed because a referral it counted
    was rejected or undone is earned again, once, when cleared referrals reach the threshold
    again (SEMANTICS §10 "Derived items"): under `period:<key>#2` (then `#3`…). A tier
    reversed otherwise (clawed back by staff, a refund after the hold) is not."""
    if not d.reason.startswith("tier:"):
        return d
    chain = sorted(
        Reward.unscoped.filter(
            tenant_id=tenant_id, participant_id=d.beneficiary_id, reason=d.reason
        )
        .filter(models.Q(scope=d.scope) | models.Q(scope__startswith=f"{d.scope}#"))
        .values_list("pk", "status"),
    )
    if not chain:
        return d
    latest_pk, latest_status = chain[-1]
    if latest_status != RewardStatus.REVERSED:
        return None
    if not _basis_undone(tenant_id, latest_pk):
        return None
    return replace(d, scope=f"{d.scope}#{len(chain) + 1}")


def _basis_undone(tenant_id, reward_id) -> bool:
    """Whether a referral the item counted was rejected, or the stage it counted reversed:
    what it rested on no longer counts (not a staff clawback, nor a refund after the hold)."""
    from tracking.models import ReferralStage

    basis = RewardBasis.unscoped.filter(tenant_id=tenant_id, reward_id=reward_id)
    if basis.filter(referral__status="rejected").exists():
        return True
    counted = set(basis.values_list("referral_id", "stage_key"))
    reversed_stages = ReferralStage.unscoped.filter(
        tenant_id=tenant_id,
        referral_id__in={referral_id for referral_id, _key in counted},
        reversed_at__isnull=False,
    ).values_list("referral_id", "stage_key")
    return any(row in counted for row in reversed_stages)


@retry_on_conflict
def period_rewards_persist(*, tenant, program, decisions) -> list[Reward]:
    """Persist period-level decisions (tiers, seasons, lottery prizes, ladders): same key,
    same idempotence, no referral. A tier reversed by what it counted may be earned again
    (`_tier_earned_again`)."""
    created = []
    version = program.current_version
    with transaction.atomic():
        _lock(tenant.pk, f"program:{program.pk}")
        held_out = holdout_members(program, {d.beneficiary_id for d in decisions})
        for d in decisions:
            if d.beneficiary_id in held_out:
                continue  # the program's holdout gets no reward (SEMANTICS §10)
            d = _tier_earned_again(tenant.pk, d)
            if d is None:
                continue
            reward = _reward_from_decision(
                tenant.pk, None, d, False, program_id=version.program_id, version_id=version.pk
            )
            reward.program_id = program.pk
            try:
                with transaction.atomic():
                    reward.save()
            except IntegrityError:
                continue
            _basis_record(reward, d.basis)
            created.append(reward)
            if reward.details.get("status") == AMBASSADOR and reward.status in LIVE:
                webhook_emit(
                    tenant=tenant,
                    type="ambassador.granted",
                    data={"reward": reward_payload(reward)},
                )
    return created


def _basis_record(reward: Reward, basis) -> None:
    """Tie a derived item to the referrals (and stages) it counted, so that a later
    rejection or reversal of one of them reaches it (SEMANTICS §10 "Derived items")."""
    rows = {(int(referral_id), stage_key or "") for referral_id, stage_key in basis or ()}
    RewardBasis.unscoped.bulk_create(
        [
            RewardBasis(
                tenant_id=reward.tenant_id,
                reward=reward,
                referral_id=referral_id,
                stage_key=stage_key,
            )
            for referral_id, stage_key in sorted(rows)
        ],
        ignore_conflicts=True,
    )
