"""The referrer side of a program: do referrers stay, buy again and spend more than comparable
customers who refer no one; do referred customers stay 30 and 90 days as well as the
others; and how satisfied each group is (SEMANTICS §10 Satisfaction).

Customers are the `CustomerFact` rows (participants with a sign-up) who signed up in the
range. Referrers: those with at least one live (not rejected) referral of the program made
by the range's end; comparable non-referrers: the other customers of the same sign-up range
who referred no one in any program. A measure whose window has not passed for every customer
of the range is "not yet" (None), as on the overview.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal

from django.db.models import Q

from referral_platform.core import calendar, clock
from tracking.models import Event, EventType, Referral, ReferralStatus

from .kpis import MATURITY_DAYS, money, per_unit, ratio
from .models import CustomerFact

MATURITY = {**MATURITY_DAYS, "retention_30d": 30}
_FACT_FIELDS = ("participant_id", "referral_id", "program_id", "excluded", "retained_30d",
                "retained_90d", "first_purchase_day", "repurchased_60d", "ltv_365d_minor")  # fmt: skip


def group_figures(facts: Iterable[dict], *, age_days: int, currency: str) -> dict:
    """Retention (30/90 days), repurchase and LTV of one group of customers. Pure."""
    facts = list(facts)
    buyers = [f for f in facts if f["first_purchase_day"] is not None]

    def ready(measure: str, value):
        return value if age_days >= MATURITY[measure] else None

    return {
        "customers": len(facts),
        "retention_30d": ready("retention_30d", ratio(sum(f["retained_30d"] for f in facts), len(facts))),
        "retention_90d": ready("retention_90d", ratio(sum(f["retained_90d"] for f in facts), len(facts))),
        "repurchase_60d": ready("repurchase_60d", ratio(sum(f["repurchased_60d"] for f in buyers), len(buyers))),
        "ltv_365d": ready("ltv_365d", money(per_unit(sum(f["ltv_365d_minor"] for f in facts), len(facts)), currency)),
    }  # fmt: skip


def latest_scores(rows: Iterable[tuple[int, datetime, object]]) -> dict[int, int]:
    """Each person's latest `nps` (0–10) from `(participant, occurred_at, nps)`; values that
    are not a whole number from 0 to 10 are ignored. Pure."""
    latest: dict[int, tuple[datetime, int]] = {}
    for pid, at, raw in rows:
        if isinstance(raw, bool) or not isinstance(raw, int | float) or raw != int(raw):
            continue
        if not 0 <= raw <= 10:
            continue
        if pid not in latest or at >= latest[pid][0]:
            latest[pid] = (at, int(raw))
    return {pid: score for pid, (_, score) in latest.items()}


def average_score(scores: dict[int, int], people: Iterable[int]) -> dict:
    chosen = [scores[p] for p in people if p in scores]
    if not chosen:
        return {"people": 0, "average": None}
    mean = (Decimal(sum(chosen)) / len(chosen)).quantize(Decimal("0.01"), ROUND_HALF_EVEN)
    return {"people": len(chosen), "average": mean}


def referrer_measures(*, tenant, filters, now: datetime | None = None) -> dict:
    """Referrers vs comparable non-referrers, referred vs non-referred, and satisfaction."""
    now = now or clock.now()
    age = (calendar.local_date(now, tenant.calendar) - filters.end).days
    _, hi = calendar.date_range_bounds(filters.start, filters.end, tenant.calendar)
    currency = filters.program.currency if filters.program else tenant.currency
    live = (
        Referral.objects.for_tenant(tenant)
        .filter(created_at__lt=hi)
        .exclude(status=ReferralStatus.REJECTED)
    )
    anyone = set(live.values_list("referrer_id", flat=True))
    any_referee = set(live.values_list("referee_id", flat=True))
    if filters.program is not None:
        live = live.filter(program=filters.program)
    referrers = set(live.values_list("referrer_id", flat=True))
    facts = CustomerFact.objects.for_tenant(tenant).filter(
        signup_day__gte=filters.start, signup_day__lte=filters.end
    )
    for name in ("region", "segment"):
        if getattr(filters, name):
            facts = facts.filter(**{name: getattr(filters, name)})
    rows = list(facts.values(*_FACT_FIELDS))

    def referred(f: dict) -> bool:
        return f["referral_id"] is not None and (
            filters.program is None or f["program_id"] == filters.program.pk
        )

    groups = {
        "referrers": [f for f in rows if f["participant_id"] in referrers],
        "non_referrers": [f for f in rows if f["participant_id"] not in anyone],
        "referred": [f for f in rows if referred(f)],
        "non_referred": [f for f in rows if f["referral_id"] is None and not f["excluded"]],
    }
    score_rows = (
        Event.objects.for_tenant(tenant)
        .filter(type=EventType.ACTIVITY, occurred_at__lt=hi)
        .filter(Q(payload__properties__has_key="nps"))
        .exclude(participant=None)
        .values_list("participant_id", "occurred_at", "payload__properties__nps")
    )
    scores = latest_scores(score_rows)
    # Every live referee of the program, customer or not, and every referrer of it.
    referred_people = set(live.values_list("referee_id", flat=True))
    return {
        "currency": currency,
        "cohort_age_days": age,
        **{
            name: group_figures(group, age_days=age, currency=currency)
            for name, group in groups.items()
        },
        "satisfaction": {
            "referrers": average_score(scores, referrers),
            "referred": average_score(scores, referred_people),
            "others": average_score(
                scores, (p for p in scores if p not in anyone and p not in any_referee)
            ),
        },
    }
