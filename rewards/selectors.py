"""Reads of rewards, payouts and the ledger."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet, Sum

from .models import (
    CouponCode,
    CouponPool,
    LedgerEntry,
    Payout,
    PayoutBatch,
    PayoutStatus,
    Redemption,
    Reward,
    RewardKind,
    RewardStatus,
)


def _money(amount_minor, currency):
    if amount_minor is None:
        return None
    return {"amount_minor": int(amount_minor), "currency": currency}


def _iso(value):
    return value.isoformat() if value is not None else None


def _option_dict(option: dict, currency: str) -> dict:
    amount = option.get("amount_minor", option.get("amount"))
    out = {
        "key": option.get("key", ""),
        "kind": option.get("kind"),
        "amount": _money(amount, option.get("currency") or currency),
        "points": option.get("points"),
        "description": option.get("description", ""),
        "chosen": bool(option.get("chosen")),
    }
    if option.get("kind") == RewardKind.COUPON:
        terms = {**option, **(option.get("details") or {})}
        out["percent_off"] = terms.get("percent_off")
        out["max_amount"] = _money(terms.get("max_amount"), currency)
        out["min_spend"] = _money(terms.get("min_spend"), currency)
        out["valid_days"] = terms.get("valid_days")
    return out


def reward_to_dict(reward: Reward) -> dict:
    """The reward of API.md, field for field."""
    currency = reward.currency or reward.program.currency
    data = {
        "id": reward.pk,
        "participant": reward.participant.external_id,
        "referral": reward.referral_id,
        "program": reward.program.slug,
        "side": reward.side,
        "scope": reward.scope,
        "reason": reward.reason,
        "kind": reward.kind,
        "amount": _money(reward.amount_minor, currency),
        "points": reward.points,
        "description": reward.description,
        "options": [_option_dict(o, currency) for o in reward.options or []],
        "status": reward.status,
        "hold_reason": reward.hold_reason or None,
        "blocked_reason": reward.blocked_reason or None,
        "boost": reward.boost or None,
        "due_at": _iso(reward.due_at),
        "choice_deadline": _iso(reward.choice_deadline),
        "expires_at": _iso(reward.expires_at),
        "reversed_amount": _money(reward.reversed_amount_minor, currency),
        "created_at": _iso(reward.created_at),
    }
    if reward.kind == RewardKind.COUPON:
        details = reward.details or {}
        data["percent_off"] = details.get("percent_off")
        data["max_amount"] = _money(details.get("max_amount"), currency)
        data["min_spend"] = _money(details.get("min_spend"), currency)
        data["valid_days"] = details.get("valid_days")
        data["code"] = details.get("code")
    return data


def reward_list(
    *,
    tenant,
    participant: str | None = None,
    status: str | None = None,
    program: str | None = None,
    referral_id: int | None = None,
    kind: str | None = None,
) -> QuerySet:
    qs = Reward.objects.for_tenant(tenant).select_related("participant", "program")
    if participant:
        qs = qs.filter(participant__external_id=participant)
    if status:
        qs = qs.filter(status=status)
    if program:
        qs = qs.filter(program__slug=program)
    if referral_id:
        qs = qs.filter(referral_id=referral_id)
    if kind:
        qs = qs.filter(kind=kind)
    return qs


def reward_totals(qs: QuerySet) -> list[dict]:
    """Per status, kind and currency: how many and how much."""
    return list(
        qs.order_by()
        .values("status", "kind", "currency")
        .annotate(count=Count("id"), amount_minor=Sum("amount_minor"), points=Sum("points"))
        .order_by("status", "kind", "currency")
    )


def reward_get(*, tenant, reward_id: int) -> Reward:
    from referral_platform.core.errors import NotFound

    reward = (
        Reward.objects.for_tenant(tenant)
        .select_related("participant", "program")
        .filter(pk=reward_id)
        .first()
    )
    if reward is None:
        raise NotFound("No such reward.")
    return reward


def referral_unreleased_count(*, referral) -> int:
    """The referral's rewards not yet released (pending or approved): what a fraud review can
    still hold or reject. What was fulfilled stays (a clawback is a separate decision)."""
    return (
        Reward.objects.for_tenant(referral.tenant_id)
        .filter(referral=referral, status__in=[RewardStatus.PENDING, RewardStatus.APPROVED])
        .count()
    )


def participant_rewards(*, tenant, participant_id: int) -> QuerySet:
    """For the portal: a participant's rewards, newest first."""
    return (
        Reward.objects.for_tenant(tenant)
        .filter(participant_id=participant_id)
        .select_related("program", "participant")
        .order_by("-created_at", "-id")
    )


def payout_batch_total(batch: PayoutBatch) -> int:
    return int(
        Payout.unscoped.filter(
            batch=batch, status__in=[PayoutStatus.REQUESTED, PayoutStatus.PAID]
        ).aggregate(s=Sum("amount_minor"))["s"]
        or 0
    )


def charity_totals(*, tenant) -> list[dict]:
    return list(
        LedgerEntry.objects.for_tenant(tenant)
        .filter(account__startswith="charity:")
        .values("account", "currency")
        .annotate(
            amount_minor=Sum("amount_minor"), donations=Count("id", filter=Q(entry_kind="credit"))
        )
        .order_by("account")
    )


def participant_donated_minor(*, tenant, participant_id: int) -> int:
    return int(
        LedgerEntry.objects.for_tenant(tenant)
        .filter(account__startswith="charity:", participant_id=participant_id)
        .aggregate(s=Sum("amount_minor"))["s"]
        or 0
    )


def coupon_pools(*, tenant) -> list[dict]:
    pools = CouponPool.objects.for_tenant(tenant).select_related("program").order_by("id")
    out = []
    for pool in pools:
        codes = CouponCode.unscoped.filter(pool=pool)
        out.append(
            {
                "pool": pool,
                "total": codes.count(),
                "free": codes.filter(reward__isnull=True, redemption__isnull=True).count(),
            }
        )
    return out


def payout_batch_rows(batch: PayoutBatch):
    """CSV rows of a batch: its payouts, then clawbacks of cash already paid in this
    program and currency, netted as negative lines (SEMANTICS §5)."""
    payouts = (
        Payout.unscoped.filter(batch=batch).select_related("reward__participant").order_by("id")
    )
    for p in payouts:
        yield [
            p.pk,
            p.reward_id,
            p.reward.participant.external_id,
            p.amount_minor,
            p.currency,
            p.status,
            p.created_at.isoformat(),
        ]
    start_key = batch.created_at
    clawbacks = LedgerEntry.unscoped.filter(
        tenant_id=batch.tenant_id,
        entry_kind="clawback",
        reward_kind=RewardKind.CASH,
        currency=batch.currency,
        reward__program_id=batch.program_id,
        created_at__gte=start_key,
    ).select_related("reward__participant")
    for e in clawbacks:
        yield [
            "",
            e.reward_id,
            e.reward.participant.external_id,
            e.amount_minor,
            e.currency,
            "clawback",
            e.created_at.isoformat(),
        ]


def redemption_to_dict(redemption: Redemption) -> dict:
    """A redemption in the API and the `redemption.created` webhook."""
    currency = redemption.currency or redemption.program.currency
    details = redemption.details or {}
    data = {
        "id": redemption.pk,
        "participant": redemption.participant.external_id,
        "program": redemption.program.slug,
        "item": redemption.item_key,
        "points": redemption.points,
        "kind": redemption.kind,
        "amount": _money(redemption.amount_minor, currency),
        "description": redemption.description,
        "code": redemption.code or None,
        "expires_at": _iso(redemption.expires_at),
        "created_at": _iso(redemption.created_at),
    }
    if redemption.kind == RewardKind.COUPON:
        data["percent_off"] = details.get("percent_off")
        data["max_amount"] = _money(details.get("max_amount"), currency)
        data["min_spend"] = _money(details.get("min_spend"), currency)
        data["valid_days"] = details.get("valid_days")
    else:
        data["duration_days"] = details.get("duration_days")
    return data


def redemption_list(
    *, tenant, participant: str | None = None, program: str | None = None
) -> QuerySet:
    qs = Redemption.objects.for_tenant(tenant).select_related("participant", "program")
    if participant:
        qs = qs.filter(participant__external_id=participant)
    if program:
        qs = qs.filter(program__slug=program)
    return qs


def points_catalogue(program) -> list[dict]:
    """What the program's points buy, cheapest first: `[{key, points, reward: {...}}]`."""
    from .rules import points_catalogue as catalogue

    return catalogue(program.spec)


def points_balance(*, tenant, participant_id: int) -> int:
    """The participant's points as the ledger has them: credits minus what was spent,
    reversed, clawed back or expired."""
    from .ledger import balances, participant_account

    tenant_id = tenant if isinstance(tenant, int) else tenant.pk
    return balances(tenant_id, participant_account(participant_id)).get("points", 0)


def program_rewards_in_flight(*, program) -> dict:
    """What a status change leaves behind: rewards not yet released (pending or approved),
    those still in their hold window, the referrals these belong to, and their money."""
    open_rewards = Reward.objects.for_tenant(program.tenant_id).filter(
        program=program, status__in=[RewardStatus.PENDING, RewardStatus.APPROVED]
    )
    held = open_rewards.filter(status=RewardStatus.PENDING, hold_reason="hold")
    return {
        "pending_rewards": open_rewards.count(),
        "pending_amount_minor": open_rewards.aggregate(n=Sum("amount_minor"))["n"] or 0,
        "held_rewards": held.count(),
        "held_referrals": held.exclude(referral=None).values("referral").distinct().count(),
    }
