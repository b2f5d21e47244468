"""Replaying a proposed policy over stored assessments (pure), and leaked-code detection rules."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from .signals import APPROVE, REJECT, REVIEW, Policy, score


@dataclass(frozen=True)
class BacktestRow:
    referral_id: int
    referrer_id: int
    signals: tuple[dict, ...]
    # Reward money of the referral per currency, in minor units.
    money: Mapping[str, int] = field(default_factory=dict)
    # A reviewer approved this referral: ops judged it honest.
    judged_honest: bool = False


@dataclass(frozen=True)
class BacktestResult:
    counts: Mapping[str, int]
    # Money of the referrals the policy would hold or reject, per currency.
    money_held: Mapping[str, int]
    money_rejected: Mapping[str, int]
    honest_referrals_hit: int
    honest_referrers_hit: int
    total: int


def backtest(rows: Iterable[BacktestRow], policy: Policy) -> BacktestResult:
    counts = {APPROVE: 0, REVIEW: 0, REJECT: 0}
    held: dict[str, int] = defaultdict(int)
    rejected: dict[str, int] = defaultdict(int)
    honest_hit = 0
    honest_referrers: set[int] = set()
    total = 0
    for row in rows:
        total += 1
        decision = score(list(row.signals), policy).decision
        counts[decision] += 1
        bucket = held if decision == REVIEW else rejected if decision == REJECT else None
        if bucket is not None:
            for currency, amount in row.money.items():
                bucket[currency] += amount
            if row.judged_honest:
                honest_hit += 1
                honest_referrers.add(row.referrer_id)
    return BacktestResult(
        counts=counts,
        money_held=dict(held),
        money_rejected=dict(rejected),
        honest_referrals_hit=honest_hit,
        honest_referrers_hit=len(honest_referrers),
        total=total,
    )


# --- leaked codes ------------------------------------------------------------------------

LEAK_MIN_REFERRALS = 15
LEAK_FACTOR = 5
LEAK_MIN_CLICKS_PER_HOUR = 30
COUPON_SITE_MARKERS = (
    "coupon",
    "voucher",
    "promo",
    "deal",
    "discount",
    "rabatt",
    "youhui",
    "smzdm",
    "retailmenot",
    "honey",
)


@dataclass(frozen=True)
class CodeUsage:
    referrals_week: int
    usual_referrals_week: float  # the owner's weekly average over the previous weeks
    clicks_week: int
    coupon_site_clicks: int
    max_clicks_hour: int


def leak_reasons(usage: CodeUsage) -> list[str]:
    """Why a code looks leaked: used far beyond its owner's normal reach."""
    reasons = []
    if usage.referrals_week >= LEAK_MIN_REFERRALS and usage.referrals_week >= LEAK_FACTOR * max(
        usage.usual_referrals_week, 1.0
    ):
        reasons.append(
            f"{usage.referrals_week} referrals this week (usually {usage.usual_referrals_week:.1f})"
        )
    if usage.coupon_site_clicks >= 3 and usage.coupon_site_clicks * 4 >= usage.clicks_week:
        reasons.append(
            f"{usage.coupon_site_clicks} of {usage.clicks_week} clicks came from coupon sites"
        )
    if usage.max_clicks_hour >= LEAK_MIN_CLICKS_PER_HOUR:
        reasons.append(f"{usage.max_clicks_hour} clicks in one hour")
    return reasons


def is_coupon_site(referer: str) -> bool:
    referer = (referer or "").lower()
    return any(marker in referer for marker in COUPON_SITE_MARKERS)
