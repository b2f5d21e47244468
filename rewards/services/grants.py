"""Grants: the engine's decisions for a referral or a period persisted as reward rows,
once, under the referrer's lock (caps, budgets); derived items keep what they counted."""

from __future__ import annotations

from django.db import IntegrityError, models, transaction

from referral_platform.core import clock
from referral_platform.core.audit import audit_log
from referral_platform.core.retry import retry_on_conflict
from referral_platform.webhooks.services import webhook_emit

from .. import engine_bridge, rules
from ..models import (
    HoldReason,
    Reward,
    RewardBasis,
    RewardStatus,
)
from .common import AMBASSADOR, LIVE, _lock, reward_payload
from .reversals import _stage_reversals_apply


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
        "company_referred_before": bool(spec.get("first_team_of_company_only"))
        and _company_referred_before(referral),
    }


def _company_key(participant) -> str:
    """A referee's company: its `company_id` (SEMANTICS §6), else its email domain unless
    that is a free-mail provider (SEMANTICS §3); "" when it has none."""
    from referral_platform.core.identity import is_free_mail_domain

    company_id = str((participant.attributes or {}).get("company_id") or "").strip().lower()
    if company_id:
        return f"id:{company_id}"
    domain = (participant.email_domain or "").lower()
    return f"domain:{domain}" if domain and not is_free_mail_domain(domain) else ""


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
        .exclude(status="rejected")
        .filter(
            models.Q(created_at__lt=referral.created_at)
            | models.Q(created_at=referral.created_at, pk__lt=referral.pk)
        )
        .select_related("referee")
    )
    kind, _sep, value = key.partition(":")
    if kind == "id":
        candidates = earlier.filter(referee__attributes__company_id__isnull=False)
    else:
        candidates = earlier.filter(referee__email_domain__iexact=value)
    return any(_company_key(r.referee) == key for r in candidates)


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


@retry_on_conflict
def referral_rewards_sync(
    *, referral, facts=None, stages=None, spec: dict | None = None
) -> list[Reward]:
    """Ask the engine what is due for `referral` now and write the rows that are missing;
    reverse the live rows of stages the engine says were reversed inside their hold (a
    refund, a cancellation, a class transfer). Idempotent: rows are written once (the
    unique key stops duplicates) and reversed once.

    `facts` are tracking's facts with fraud's decision and `stages` the engine's stage
    decisions for them, both computed once by the flow (`pipeline.flow`) and handed over;
    rewards adds only the facts it owns, under its lock. Called without them (a former
    caller), it asks the flow, which builds them and calls back."""
    if facts is None or stages is None:
        from pipeline import flow

        return flow.referral_rewards_sync(referral=referral)
    program_version = referral.program_version
    spec = spec if spec is not None else engine_bridge.referral_spec(referral)
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
        facts = engine_bridge.with_reward_facts(facts, **_reward_facts(referral, spec))
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


@retry_on_conflict
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
