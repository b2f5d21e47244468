"""Advocate discovery: rank a tenant's customers by how likely they are to refer
successfully, and check the ranking against what happened after a past cut-off.

The score is a transparent weighted sum (a marketer can read why someone ranks high);
`advocates_backtest` scores everyone as of a past date and measures how many of the top
ranks then brought a converted referral, against the base rate (the lift).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from tracking.models import Event, EventType, Participant, Referral, ReferralStatus

WEIGHTS = {"activity": 1.0, "purchases": 3.0, "shares": 4.0, "past_successes": 10.0}
LOOKBACK = timedelta(days=90)


@dataclass(frozen=True)
class Features:
    activity: int = 0  # activity events in the last 90 days
    purchases: int = 0  # purchases, ever
    shares: int = 0  # share events in the last 90 days
    past_successes: int = 0  # converted referrals they brought
    nps: int | None = None  # the tenant's `attributes.nps`, 0–10


def advocate_score(features: Features) -> float:
    """Higher is likelier. Activity and shares saturate so one very busy account does not
    drown everything; promoters (NPS 9–10) get a boost, detractors (0–6) a penalty."""
    score = (
        WEIGHTS["activity"] * min(features.activity, 20)
        + WEIGHTS["purchases"] * min(features.purchases, 10)
        + WEIGHTS["shares"] * min(features.shares, 10)
        + WEIGHTS["past_successes"] * min(features.past_successes, 10)
    )
    if features.nps is not None:
        if features.nps >= 9:
            score *= 1.5
        elif features.nps <= 6:
            score *= 0.5
    return round(score, 3)


def _features(tenant, as_of: datetime) -> dict[int, Features]:
    counts: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    since = as_of - LOOKBACK
    for pid, type_, at in (
        Event.objects.for_tenant(tenant)
        .filter(
            occurred_at__lt=as_of,
            type__in=[EventType.ACTIVITY, EventType.PURCHASE, EventType.SHARE],
        )
        .exclude(participant=None)
        .values_list("participant_id", "type", "occurred_at")
    ):
        if type_ == EventType.PURCHASE:
            counts[pid]["purchases"] += 1
        elif at >= since:
            counts[pid]["activity" if type_ == EventType.ACTIVITY else "shares"] += 1
    for pid in (
        Referral.objects.for_tenant(tenant)
        .filter(
            created_at__lt=as_of,
            status__in=[ReferralStatus.CONVERTED, ReferralStatus.RETAINED],
        )
        .values_list("referrer_id", flat=True)
    ):
        counts[pid]["past_successes"] += 1
    nps = {}
    for pid, attrs in (
        Participant.objects.for_tenant(tenant)
        .filter(pk__in=list(counts), is_lead=False)
        .values_list("pk", "attributes")
    ):
        value = (attrs or {}).get("nps")
        nps[pid] = int(value) if isinstance(value, (int, float)) else None
    return {pid: Features(nps=nps.get(pid), **dict(c)) for pid, c in counts.items() if pid in nps}


def advocates_rank(*, tenant, as_of: datetime, limit: int = 50) -> list[dict]:
    features = _features(tenant, as_of)
    ranked = sorted(features.items(), key=lambda kv: (-advocate_score(kv[1]), kv[0]))[:limit]
    names = dict(
        Participant.objects.for_tenant(tenant)
        .filter(pk__in=[pid for pid, _ in ranked])
        .values_list("pk", "external_id")
    )
    return [
        {"participant": names.get(pid, ""), "score": advocate_score(f), "features": f}
        for pid, f in ranked
    ]


def advocates_backtest(*, tenant, cutoff: datetime, horizon_days: int = 90, top_share=0.1) -> dict:
    """Rank as of `cutoff`; success = brought a converted referral in the next
    `horizon_days`. Returns the success rate of the top share and of everyone (the lift)."""
    features = _features(tenant, cutoff)
    if not features:
        return {"scored": 0, "top": 0, "top_rate": None, "base_rate": None, "lift": None}
    ranked = sorted(features, key=lambda pid: (-advocate_score(features[pid]), pid))
    top = ranked[: max(1, int(len(ranked) * top_share))]
    succeeded = set(
        Referral.objects.for_tenant(tenant)
        .filter(
            referrer_id__in=ranked,
            created_at__gte=cutoff,
            created_at__lt=cutoff + timedelta(days=horizon_days),
            status__in=[ReferralStatus.CONVERTED, ReferralStatus.RETAINED],
        )
        .values_list("referrer_id", flat=True)
    )
    top_rate = sum(p in succeeded for p in top) / len(top)
    base_rate = len(succeeded) / len(ranked)
    return {
        "scored": len(ranked),
        "top": len(top),
        "top_rate": round(top_rate, 4),
        "base_rate": round(base_rate, 4),
        "lift": round(top_rate / base_rate, 2) if base_rate else None,
    }
