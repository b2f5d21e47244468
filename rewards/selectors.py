"""Reads of rewards, payouts and the ledger."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet, Sum

from referral_platform.core.compiled import compiled
from referral_platform.core.spreadsheet import major_cell, safe_row

from .models import (
    BatchStatus,
    CouponCode,
    CouponPool,
    HoldReason,
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
    payout: str | None = None,
) -> QuerySet:
    """`payout="failed"`: the rewards whose payout failed and waits for staff to request it
    again (`payout_request_again`)."""
    qs = Reward.objects.for_tenant(tenant).select_related("participant", "program")
    if payout == "failed":
        failed = Payout.objects.for_tenant(tenant).filter(status=PayoutStatus.FAILED)
        qs = qs.filter(pk__in=failed.values("reward_id"))
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
    return len(_unreleased(tenant_id=referral.tenant_id, referral_id=referral.pk))


@compiled
def _unreleased(*, tenant_id: int, referral_id: int):
    return (
        Reward.objects.for_tenant(tenant_id)
        .filter(referral_id=referral_id, status__in=[RewardStatus.PENDING, RewardStatus.APPROVED])
        .values_list("pk", flat=True)
    )


def participant_rewards(*, tenant, participant_id: int) -> QuerySet:
    """For the portal: a participant's rewards, newest first."""
    return (
        Reward.objects.for_tenant(tenant)
        .filter(participant_id=participant_id)
        .select_related("program", "participant")
        .order_by("-created_at", "-id")
    )


def referral_rewards(*, referral) -> list[Reward]:
    """Every reward row of one referral (both sides), oldest first."""
    return list(
        Reward.objects.for_tenant(referral.tenant_id)
        .filter(referral=referral)
        .select_related("participant")
        .order_by("created_at", "pk")
    )


@dataclass(frozen=True)
class RewardRow:
    """One reward as staff read it: `value` in the currency's major unit (the row's amount,
    boosts included), never the rule's label."""

    reward: Reward
    value: str


@dataclass(frozen=True)
class ReferralRewards:
    """A referral's rewards for the staff pages (its page, its review case), and the cash
    not yet paid per currency (pending or approved rows): what a review decision releases
    or loses."""

    rows: list[RewardRow]
    cash_unpaid: list[str]


def referral_reward_rows(*, referral, rewards: list[Reward] | None = None) -> ReferralRewards:
    """`rewards`: the referral's rows when the caller read them already."""
    from referral_platform.core.money import format_minor

    from .words import reward_words

    rows, unpaid = [], {}
    for reward in rewards if rewards is not None else referral_rewards(referral=referral):
        rows.append(RewardRow(reward=reward, value=reward_words(reward)))
        if (
            reward.kind == RewardKind.CASH
            and reward.status in (RewardStatus.PENDING, RewardStatus.APPROVED)
            and reward.amount_minor
        ):
            unpaid[reward.currency] = unpaid.get(reward.currency, 0) + int(reward.amount_minor)
    return ReferralRewards(
        rows=rows,
        cash_unpaid=[format_minor(amount, currency) for currency, amount in sorted(unpaid.items())],
    )


def referral_reward_money(*, tenant, referral_ids) -> dict[int, dict[str, int]]:
    """The money of each referral's rewards (both sides, any status), per currency, in minor
    units: {referral_id: {currency: amount_minor}}."""
    money: dict[int, dict[str, int]] = {}
    for referral_id, amount, currency in (
        Reward.objects.for_tenant(tenant)
        .filter(referral_id__in=list(referral_ids), amount_minor__isnull=False)
        .values_list("referral_id", "amount_minor", "currency")
    ):
        by_currency = money.setdefault(referral_id, {})
        by_currency[currency] = by_currency.get(currency, 0) + amount
    return money


# What a batch's total counts: the payouts waiting to leave and those that left.
BATCH_TOTAL_STATUSES = (PayoutStatus.REQUESTED, PayoutStatus.PAID)


def payout_batch_total(batch: PayoutBatch) -> int:
    return int(
        Payout.unscoped.filter(batch=batch, status__in=BATCH_TOTAL_STATUSES).aggregate(
            s=Sum("amount_minor")
        )["s"]
        or 0
    )


def payout_batches_waiting(*, tenant) -> dict[str, dict]:
    """Payout batches waiting for a person. `approve`: open batches with a payout requested,
    with their totals as the batches page shows them (`payout_batch_total`); `pay`: approved
    batches with payouts not yet paid, with what is still to pay. Each is
    `{"batches": n, "totals": [(currency, amount_minor), …]}`."""
    rows = (
        Payout.objects.for_tenant(tenant)
        .filter(batch__status__in=[BatchStatus.OPEN, BatchStatus.APPROVED])
        .values("batch_id", "batch__status", "batch__currency")
        .annotate(
            requested=Count("pk", filter=Q(status=PayoutStatus.REQUESTED)),
            requested_minor=Sum("amount_minor", filter=Q(status=PayoutStatus.REQUESTED)),
            total_minor=Sum("amount_minor", filter=Q(status__in=BATCH_TOTAL_STATUSES)),
        )
        .order_by()
    )
    waiting: dict[str, dict] = {"approve": {}, "pay": {}}
    counts = {"approve": 0, "pay": 0}
    for row in rows:
        if not row["requested"]:
            continue
        if row["batch__status"] == BatchStatus.OPEN:
            key, amount = "approve", row["total_minor"]
        else:
            key, amount = "pay", row["requested_minor"]
        counts[key] += 1
        totals = waiting[key]
        totals[row["batch__currency"]] = totals.get(row["batch__currency"], 0) + int(amount or 0)
    return {
        key: {"batches": counts[key], "totals": sorted(totals.items())}
        for key, totals in waiting.items()
    }


def payouts_failed_waiting(*, tenant) -> dict:
    """Failed payouts waiting for staff to request them again: how many, and their amounts
    per currency (`{"payouts": n, "totals": [(currency, amount_minor), …]}`)."""
    rows = (
        Payout.objects.for_tenant(tenant)
        .filter(status=PayoutStatus.FAILED)
        .values("currency")
        .annotate(n=Count("pk"), amount=Sum("amount_minor"))
        .order_by("currency")
    )
    return {
        "payouts": sum(row["n"] for row in rows),
        "totals": [(row["currency"], int(row["amount"] or 0)) for row in rows],
    }


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


PAYOUT_CSV_HEADER = [
    "payout_id",
    "reward_id",
    "participant",
    "amount",
    "currency",
    "status",
    "created_at",
]


def payout_batch_rows(batch: PayoutBatch):
    """CSV rows of a batch (after `PAYOUT_CSV_HEADER`): each payout at what the tenant pays,
    net of the clawbacks kept back from it (SEMANTICS §10 "Net cash"; the API and the batch
    page show the gross amount and the offset beside it)."""
    payouts = (
        Payout.unscoped.filter(batch=batch).select_related("reward__participant").order_by("id")
    )
    for p in payouts:
        # People open this in a spreadsheet: the amount in the major unit, text made inert.
        yield safe_row(
            [
                p.pk,
                p.reward_id,
                p.reward.participant.external_id,
                major_cell(p.amount_minor, p.currency),
                p.currency,
                p.status,
                p.created_at.isoformat(),
            ]
        )


def payout_to_dict(payout: Payout) -> dict:
    """A payout in the API and the `payout.requested` webhook: `amount` is what the tenant
    pays, net of `clawback_offset` (cash owed back, kept back from this payout)."""
    return {
        "id": payout.pk,
        "reward": payout.reward_id,
        "amount": _money(payout.amount_minor, payout.currency),
        "gross_amount": _money(payout.gross_amount_minor, payout.currency),
        "clawback_offset": _money(payout.offset_minor, payout.currency),
        "status": payout.status,
        "failure_reason": payout.failure_reason or None,
        "cancel_reason": payout.cancel_reason or None,
        "external_ref": payout.external_ref or None,
        "created_at": _iso(payout.created_at),
        "settled_at": _iso(payout.settled_at),
    }


@dataclass(frozen=True)
class CashPosition:
    """A participant's cash in one currency, net of clawbacks (SEMANTICS §10 "Net cash").

    `earned`: cash credited (paid rewards) minus cash taken back after (reversed or clawed
    back); `paid`: what payouts handed over, net; `balance` = earned − paid, negative while
    the participant owes cash back; `owed`: the part of that debt no requested payout keeps
    back yet, carried to the next payout; `payable`: what the tenant is still to pay —
    requested payouts (net) and approved cash not yet in a payout, less `owed`. Approved
    cash whose referral is back in review is not payable until ops clears it."""

    currency: str
    earned_minor: int = 0
    paid_minor: int = 0
    requested_minor: int = 0
    requested_offset_minor: int = 0
    approved_minor: int = 0

    @property
    def balance_minor(self) -> int:
        return self.earned_minor - self.paid_minor

    @property
    def owed_minor(self) -> int:
        return max(0, -self.balance_minor - self.requested_offset_minor)

    @property
    def payable_minor(self) -> int:
        return max(0, self.requested_minor + self.approved_minor - self.owed_minor)

    def as_dict(self) -> dict:
        return {
            "balance": _money(self.balance_minor, self.currency),
            "payable": _money(self.payable_minor, self.currency),
            "owed": _money(self.owed_minor, self.currency),
            "earned": _money(self.earned_minor, self.currency),
            "paid": _money(self.paid_minor, self.currency),
        }


def cash_positions(*, tenant_id: int, participant_id: int) -> dict[str, CashPosition]:
    """The participant's cash per currency (see `CashPosition`), from the ledger and the
    payouts: one definition for the API, webhooks, staff pages, the portal and payouts."""
    from .ledger import participant_account

    sums: dict[str, dict[str, int]] = {}

    def add(currency: str, field: str, value) -> None:
        row = sums.setdefault(currency, {})
        row[field] = row.get(field, 0) + int(value or 0)

    earned = (
        LedgerEntry.unscoped.filter(
            tenant_id=tenant_id,
            account=participant_account(participant_id),
            reward_kind=RewardKind.CASH,
        )
        .exclude(currency="")
        .values("currency")
        .annotate(s=Sum("amount_minor"))
    )
    for row in earned:
        add(row["currency"], "earned_minor", row["s"])
    payouts = (
        Payout.unscoped.filter(
            tenant_id=tenant_id,
            reward__participant_id=participant_id,
            status__in=[PayoutStatus.REQUESTED, PayoutStatus.PAID],
        )
        .values("currency", "status")
        .annotate(s=Sum("amount_minor"), o=Sum("offset_minor"))
    )
    for row in payouts:
        if row["status"] == PayoutStatus.PAID:
            add(row["currency"], "paid_minor", row["s"])
        else:
            add(row["currency"], "requested_minor", row["s"])
            add(row["currency"], "requested_offset_minor", row["o"])
    approved = (
        Reward.unscoped.filter(
            tenant_id=tenant_id,
            participant_id=participant_id,
            kind=RewardKind.CASH,
            status=RewardStatus.APPROVED,
        )
        .exclude(hold_reason=HoldReason.REVIEW)
        .exclude(payouts__status__in=[PayoutStatus.REQUESTED, PayoutStatus.PAID])
        .values("currency")
        .annotate(s=Sum("amount_minor"))
    )
    for row in approved:
        add(row["currency"], "approved_minor", row["s"])
    return {currency: CashPosition(currency, **row) for currency, row in sorted(sums.items())}


def cash_owed_minor(*, tenant_id: int, participant_id: int, currency: str) -> int:
    position = cash_positions(tenant_id=tenant_id, participant_id=participant_id).get(currency)
    return position.owed_minor if position is not None else 0


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


def ambassadors(*, tenant, participant_ids) -> set[tuple[int, int]]:
    """`(participant_id, program_id)` of the given participants who hold ambassador status
    (a live ambassador item, SCENARIOS: the guide's ≥ 5 referrals with ≥ 50 % retained)."""
    return set(
        Reward.objects.for_tenant(tenant)
        .filter(
            participant_id__in=list(participant_ids),
            details__status="ambassador",
            status__in=[RewardStatus.PENDING, RewardStatus.APPROVED, RewardStatus.FULFILLED],
        )
        .values_list("participant_id", "program_id")
    )


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
