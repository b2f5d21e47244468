"""Reads for the API, the dashboards and the exports. Figures come from the rollups; the
few point-in-time counts (review backlog, approved rewards past due, enrolments) are
single indexed counts. The formulas themselves live in `kpis.py`."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from django.db.models import Count, Exists, Min, OuterRef, Q, Sum

from fraud.models import CaseStatus, ReviewCase
from programs.models import Program
from referral_platform.core import calendar, clock
from referral_platform.core.errors import NotFound
from rewards.models import Reward, RewardKind, RewardStatus
from tracking.models import Enrollment, Event, EventType, Referral, ReferralStatus

from . import rollups, units
from .kpis import FUNNEL_STEPS, MATURITY_DAYS, CohortFigures, FunnelCounts, KpiInputs, kpis_compute
from .models import (
    CustomerDaily,
    CustomerFact,
    DailyRollup,
    Goal,
    ProgramTargets,
    ReferrerDaily,
)

_SUMMED = FUNNEL_STEPS + (
    "assessed",
    "rejected",
    "enrollments",
    "rewards_fulfilled",
    "reward_cost_minor",
)


@dataclass(frozen=True)
class Filters:
    """What every analytics read is cut by. `program=None` means all programs."""

    start: date
    end: date
    program: Program | None = None
    channel: str = ""
    region: str = ""
    segment: str = ""

    def as_query(self) -> dict[str, str]:
        out = {"from": self.start.isoformat(), "to": self.end.isoformat()}
        if self.program is not None:
            out["program"] = self.program.slug
        for name in ("channel", "region", "segment"):
            if getattr(self, name):
                out[name] = getattr(self, name)
        return out


def program_get(*, tenant, slug: str) -> Program:
    program = Program.objects.for_tenant(tenant).filter(slug=slug).first()
    if program is None:
        raise NotFound("No such program.")
    return program


def program_list(*, tenant):
    return Program.objects.for_tenant(tenant).order_by("name")


def _rollups(tenant, f: Filters, *, dims: bool = True):
    qs = DailyRollup.objects.for_tenant(tenant).filter(day__gte=f.start, day__lte=f.end)
    if f.program is not None:
        qs = qs.filter(program=f.program)
    if dims:
        for name in ("channel", "region", "segment"):
            if getattr(f, name):
                qs = qs.filter(**{name: getattr(f, name)})
    return qs


def _sums(qs) -> dict[str, int]:
    totals = qs.aggregate(**{name: Sum(name) for name in _SUMMED})
    return {k: int(v or 0) for k, v in totals.items()}


def funnel_counts(*, tenant, filters: Filters) -> FunnelCounts:
    sums = _sums(_rollups(tenant, filters))
    return FunnelCounts(**{step: sums[step] for step in FUNNEL_STEPS})


def _json_sums(qs, field: str) -> dict[str, int]:
    return _json_sums_many(qs, (field,))[field]


def _json_sums_many(qs, fields: tuple[str, ...]) -> dict[str, dict[str, int]]:
    """Key-wise sums of JSON counters, several fields in one scan."""
    out: dict[str, dict[str, int]] = {name: defaultdict(int) for name in fields}
    empty = Q()
    for name in fields:
        empty &= Q(**{name: {}})
    for values in qs.exclude(empty).values_list(*fields):
        for name, value in zip(fields, values, strict=True):
            for key, n in (value or {}).items():
                out[name][key] += int(n)
    return {name: dict(sums) for name, sums in out.items()}


def _customer_days(tenant, filters: Filters, basis: str):
    qs = CustomerDaily.objects.for_tenant(tenant).filter(
        basis=basis, day__gte=filters.start, day__lte=filters.end
    )
    if filters.region:
        qs = qs.filter(region=filters.region)
    if filters.segment:
        qs = qs.filter(segment=filters.segment)
    return qs


def cohort_figures(*, tenant, filters: Filters) -> tuple[CohortFigures, CohortFigures]:
    """(referred, baseline). Each group holds only its own customers: referred = brought by
    a live (not rejected) referral of the program; baseline = never referred; customers of
    a rejected referral are in neither. Cut by the customer's own region and segment."""
    out = []
    for group in ("referred", "baseline"):
        signed = _customer_days(tenant, filters, "signup").filter(group=group)
        bought = _customer_days(tenant, filters, "purchase").filter(group=group)
        if group == "referred" and filters.program is not None:
            signed, bought = (
                signed.filter(program=filters.program),
                bought.filter(program=filters.program),
            )
        a = signed.aggregate(
            n=Sum("customers"), kept=Sum("retained_90d"), ltv=Sum("ltv_365d_minor")
        )
        b = bought.aggregate(
            n=Sum("customers"), again=Sum("repurchased_60d"), rev=Sum("revenue_minor")
        )
        out.append(
            CohortFigures(
                signed_up=int(a["n"] or 0),
                retained_90d=int(a["kept"] or 0),
                ltv_customers=int(a["n"] or 0),
                ltv_365d_minor=int(a["ltv"] or 0),
                first_purchasers=int(b["n"] or 0),
                repurchased_60d=int(b["again"] or 0),
                first_purchase_revenue_minor=int(b["rev"] or 0),
            )
        )
    return out[0], out[1]


def _distinct_referrers(tenant, f: Filters) -> tuple[int, int]:
    """(referrers with a referral, referrers with a share or click) in range: one scan.

    Active referrers count only those holding an eligible enrolment in the row's program by
    the end of the range, so the participation rate's numerator is part of its denominator
    (an ineligible or later-enrolled sharer would push it past 100 %)."""
    qs = ReferrerDaily.objects.for_tenant(tenant).filter(day__gte=f.start, day__lte=f.end)
    if f.program is not None:
        qs = qs.filter(program=f.program)
    if f.channel:
        qs = qs.filter(channel=f.channel)
    if f.region:
        qs = qs.filter(region=f.region)
    if f.segment:
        qs = qs.filter(segment=f.segment)
    _, hi = calendar.date_range_bounds(f.start, f.end, tenant.calendar)
    enrolled = Enrollment.objects.for_tenant(tenant).filter(
        participant_id=OuterRef("participant_id"),
        program_id=OuterRef("program_id"),
        eligible=True,
        created_at__lt=hi,
    )
    counts = qs.annotate(enrolled=Exists(enrolled)).aggregate(
        with_referral=Count("participant_id", distinct=True, filter=Q(referrals__gt=0)),
        active=Count(
            "participant_id",
            distinct=True,
            filter=(Q(shares__gt=0) | Q(clicks__gt=0)) & Q(enrolled=True),
        ),
    )
    return counts["with_referral"], counts["active"]


def approved_unfulfilled_minor(*, tenant, program: Program | None) -> int:
    """Cash approved and not yet fulfilled (paid out) now: committed, not yet reward cost."""
    qs = Reward.objects.for_tenant(tenant).filter(
        status=RewardStatus.APPROVED, kind=RewardKind.CASH
    )
    if program is not None:
        qs = qs.filter(program=program)
    return int(qs.aggregate(n=Sum("amount_minor"))["n"] or 0)


def approved_past_due(tenant, filters: Filters, now: datetime) -> int:
    """The `fulfilment_rate`'s rewards approved past due (SEMANTICS §7): approved and not yet
    fulfilled, with their due day in the range and already passed, cut by the same program,
    channel, region and segment as the fulfilled rewards they are set against."""
    lo, hi = calendar.date_range_bounds(filters.start, filters.end, tenant.calendar)
    rows = Reward.objects.for_tenant(tenant).filter(
        status=RewardStatus.APPROVED, due_at__gte=lo, due_at__lt=min(hi, now)
    )
    if filters.program is not None:
        rows = rows.filter(program=filters.program)
    if not (filters.channel or filters.region or filters.segment):
        return rows.count()
    rewards = list(rows.values("referral_id", "participant_id", "program_id"))
    key_for = rollups.reward_keys(tenant, rewards)
    wanted = (filters.channel, filters.region, filters.segment)
    return sum(
        all(not want or want == got for want, got in zip(wanted, key_for(r, None)[2:], strict=True))
        for r in rewards
    )


def kpi_inputs(*, tenant, filters: Filters, now: datetime | None = None) -> KpiInputs:
    now = now or clock.now()
    sums = _sums(_rollups(tenant, filters))
    funnel = FunnelCounts(**{step: sums[step] for step in FUNNEL_STEPS})
    # Enrolled eligible participants up to the end of the range (the denominator grows).
    enrolled = DailyRollup.objects.for_tenant(tenant).filter(
        day__lte=filters.end, enrollments__gt=0
    )
    if filters.program is not None:
        enrolled = enrolled.filter(program=filters.program)
    for name in ("region", "segment"):
        if getattr(filters, name):
            enrolled = enrolled.filter(**{name: getattr(filters, name)})
    enrolled_total = enrolled.aggregate(n=Sum("enrollments"))["n"] or 0
    with_referral, active = _distinct_referrers(tenant, filters)
    referred, baseline = cohort_figures(tenant=tenant, filters=filters)
    # The referral-share denominator is tenant-wide; revenue follows the region/segment cut.
    all_new = _customer_days(tenant, replace(filters, region="", segment=""), "signup").aggregate(
        n=Sum("customers")
    )["n"]
    all_revenue = _customer_days(tenant, filters, "purchase").aggregate(n=Sum("revenue_minor"))["n"]
    in_review = Referral.objects.for_tenant(tenant).filter(status=ReferralStatus.REVIEW)
    cases = ReviewCase.objects.for_tenant(tenant).filter(
        status=CaseStatus.OPEN, referral__status=ReferralStatus.REVIEW
    )
    targets = None
    if filters.program is not None:
        in_review = in_review.filter(program=filters.program)
        cases = cases.filter(program=filters.program)
        targets = ProgramTargets.objects.for_tenant(tenant).filter(program=filters.program).first()
    sla = tenant.review_sla_hours or 48
    json_sums = _json_sums_many(_rollups(tenant, filters), ("cost_by_kind", "cost_basis"))
    return KpiInputs(
        currency=filters.program.currency if filters.program else tenant.currency,
        funnel=funnel,
        all_new_customers=int(all_new or 0),
        referrals=funnel.signups,
        referrers_with_referral=with_referral,
        referrers_active=active,
        enrolled_eligible=int(enrolled_total),
        reward_cost_minor=sums["reward_cost_minor"],
        reward_cost_by_kind=json_sums["cost_by_kind"],
        fulfilled=sums["rewards_fulfilled"],
        approved_past_due=approved_past_due(tenant, filters, now),
        rejected=sums["rejected"],
        assessed=sums["assessed"],
        review_backlog=in_review.count(),
        review_past_sla=cases.filter(opened_at__lt=now - timedelta(hours=sla)).count(),
        review_sla_hours=sla,
        referred=referred,
        baseline=baseline,
        acquisition_cost_minor=targets.acquisition_cost_minor if targets else None,
        all_first_purchase_revenue_minor=int(all_revenue or 0),
        coupon_cost_basis=json_sums["cost_basis"],
        approved_unfulfilled_minor=approved_unfulfilled_minor(
            tenant=tenant, program=filters.program
        ),
        cohort_age_days=(calendar.local_date(now, tenant.calendar) - filters.end).days,
    )


def kpis_get(*, tenant, filters: Filters, now: datetime | None = None) -> dict:
    return kpis_compute(kpi_inputs(tenant=tenant, filters=filters, now=now))


# --- dashboard series -----------------------------------------------------------------------


def timeseries(*, tenant, filters: Filters) -> dict:
    """Per tenant-local day: every funnel step and the reward cost (days without data 0)."""
    rows = (
        _rollups(tenant, filters)
        .values("day")
        .annotate(**{name: Sum(name) for name in FUNNEL_STEPS + ("reward_cost_minor",)})
        .order_by("day")
    )
    by_day = {r["day"]: r for r in rows}
    days = []
    cursor = filters.start
    while cursor <= filters.end:
        days.append(cursor)
        cursor += timedelta(days=1)
    series = {
        name: [int((by_day.get(d) or {}).get(name) or 0) for d in days]
        for name in FUNNEL_STEPS + ("reward_cost_minor",)
    }
    return {"days": [d.isoformat() for d in days], "series": series}


def breakdown(*, tenant, filters: Filters, by: str) -> list[dict]:
    """Funnel counts and cost per channel, region or segment."""
    if by not in ("channel", "region", "segment", "program"):
        raise ValueError(by)
    key = "program__slug" if by == "program" else by
    rows = (
        _rollups(tenant, filters)
        .values(key)
        .annotate(**{name: Sum(name) for name in FUNNEL_STEPS + ("reward_cost_minor",)})
        .order_by(key)
    )
    return [
        {"key": r[key] or "", **{n: int(r[n] or 0) for n in FUNNEL_STEPS + ("reward_cost_minor",)}}
        for r in rows
    ]


def cohort_curves(*, tenant, filters: Filters, now: datetime | None = None) -> dict:
    """Per sign-up month: referred vs baseline 90-day retention, 60-day repurchase and LTV."""
    today = calendar.local_date(now or clock.now(), tenant.calendar)
    out: dict[str, dict] = {}
    cursor = filters.start.replace(day=1)
    while cursor <= filters.end:
        month_end = (cursor + timedelta(days=32)).replace(day=1) - timedelta(days=1)
        f = replace(filters, start=max(cursor, filters.start), end=min(month_end, filters.end))
        referred, baseline = cohort_figures(tenant=tenant, filters=f)
        age = (today - f.end).days
        out[cursor.strftime("%Y-%m")] = {
            "referred": referred,
            "baseline": baseline,
            # Whether every customer of the month is past each window (60, 90, 365 days).
            "matured": {days: age >= days for days in MATURITY_DAYS.values()},
        }
        cursor = month_end + timedelta(days=1)
    return out


def leaderboard(*, tenant, filters: Filters, limit: int = 10) -> dict:
    """Read-only rankings: by successes in range (ties to whoever got there first), and
    by the first-year value of referred customers whose referral is retained."""
    qs = ReferrerDaily.objects.for_tenant(tenant).filter(
        day__gte=filters.start, day__lte=filters.end, successes__gt=0
    )
    if filters.program is not None:
        qs = qs.filter(program=filters.program)
    by_successes = list(
        qs.values("participant_id", "participant__external_id", "participant__name")
        .annotate(successes=Sum("successes"), first_day=Min("day"))
        .order_by("-successes", "first_day", "participant_id")[:limit]
    )
    facts = CustomerFact.objects.for_tenant(tenant).filter(
        referral_status=ReferralStatus.RETAINED,
        signup_day__gte=filters.start,
        signup_day__lte=filters.end,
    )
    if filters.program is not None:
        facts = facts.filter(program=filters.program)
    by_value = list(
        facts.values("referrer_id", "referrer__external_id", "referrer__name")
        .annotate(value=Sum("ltv_365d_minor"), customers=Count("pk"))
        .order_by("-value", "referrer_id")[:limit]
    )
    return {
        "by_successes": [
            {
                "participant": r["participant__external_id"],
                "name": r["participant__name"],
                "successes": int(r["successes"]),
            }
            for r in by_successes
        ],
        "by_value": [
            {
                "participant": r["referrer__external_id"],
                "name": r["referrer__name"],
                "value_minor": int(r["value"] or 0),
                "customers": r["customers"],
            }
            for r in by_value
        ],
    }


def fraud_panel(*, tenant, filters: Filters) -> dict:
    rows = (
        _rollups(tenant, filters)
        .values("day")
        .annotate(assessed=Sum("assessed"), rejected=Sum("rejected"))
        .order_by("day")
    )
    return {
        "days": [r["day"].isoformat() for r in rows],
        "assessed": [int(r["assessed"] or 0) for r in rows],
        "rejected": [int(r["rejected"] or 0) for r in rows],
    }


def coverage_trend(*, tenant, filters: Filters, threshold_bp: int = 8000) -> dict:
    """Converted referrals by evidence method per ISO week, and an alert when the last
    week's share with first-party evidence (click id, cookie or code) fell below
    `threshold_bp` of the weeks before it (a blocked script, a broken integration)."""
    weeks: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for day, coverage in (
        _rollups(tenant, filters).exclude(coverage={}).values_list("day", "coverage")
    ):
        year, week, _ = day.isocalendar()
        for method, n in coverage.items():
            weeks[f"{year}-W{week:02d}"][method] += int(n)
    keys = sorted(weeks)
    strong = ("click_id", "cookie", "code")

    def share(week: dict[str, int]) -> float | None:
        total = sum(week.values())
        return sum(week.get(m, 0) for m in strong) / total if total else None

    shares = [share(weeks[k]) for k in keys]
    alert = coverage_alert(shares, threshold_bp)
    return {
        "weeks": keys,
        "methods": {
            m: [weeks[k].get(m, 0) for k in keys]
            for m in sorted({m for w in weeks.values() for m in w})
        },
        "share": [None if s is None else round(s, 4) for s in shares],
        "alert": alert,
    }


def coverage_alert(shares: list[float | None], threshold_bp: int) -> bool:
    """True when the latest week's share is below threshold × the mean of up to four
    weeks before it. Pure, so the rule is tested on its own."""
    known = [s for s in shares if s is not None]
    if len(known) < 2:
        return False
    previous = known[-5:-1]
    baseline = sum(previous) / len(previous)
    return known[-1] < baseline * threshold_bp / 10000


def goals_progress(*, tenant, program: Program, now: datetime | None = None) -> list[dict]:
    """Each goal with the metric's value over its window so far and whether it is met."""
    now = now or clock.now()
    today = calendar.local_date(now, tenant.calendar)
    out = []
    for goal in Goal.objects.for_tenant(tenant).filter(program=program).order_by("ends_on"):
        end = min(goal.ends_on, today)
        if end < goal.starts_on:
            value = None
        else:
            value = kpis_get(
                tenant=tenant,
                filters=Filters(start=goal.starts_on, end=end, program=program),
                now=now,
            )[goal.metric]
        status = goal_status(goal.metric, goal.comparator, goal.target, value)
        out.append({
            "goal": goal, **status,
            "target_text": units.stored_text(goal.metric, goal.target, program.currency),
            "current_text": units.stored_text(goal.metric, status["current"], program.currency),
        })  # fmt: skip
    return out


def goal_value_as_int(metric: str, value) -> int | None:
    """The KPI in the goal's integer unit: basis points, minor units or hundredths."""
    if value is None:
        return None
    unit = units.metric_unit(metric)
    if unit == units.MONEY:
        return int(value["amount_minor"])
    if unit == units.RATIO:
        return int(value * 100)
    return int(value * 10000)


def goal_status(metric: str, comparator: str, target: int, value) -> dict:
    current = goal_value_as_int(metric, value)
    if current is None:
        return {"current": None, "met": False, "progress_percent": 0}
    met = current >= target if comparator == "ge" else current <= target
    if comparator == "ge":
        progress = 100 if target <= 0 else min(100, current * 100 // target)
    else:
        progress = 100 if met else max(0, 100 - (current - target) * 100 // max(target, 1))
    return {"current": current, "met": met, "progress_percent": int(progress)}


def budget_pacing(*, tenant, program: Program, now: datetime | None = None) -> dict | None:
    """This month's spend projected linearly to month end, against the monthly budget and
    the target CPRA; warns while there is still time to act."""
    targets = ProgramTargets.objects.for_tenant(tenant).filter(program=program).first()
    if targets is None or (
        targets.monthly_budget_minor is None and targets.target_cpra_minor is None
    ):
        return None
    now = now or clock.now()
    cal = tenant.calendar
    month_start, month_end = calendar.period_bounds(calendar.period_key(now, "month", cal), cal)
    first_day = calendar.local_date(month_start, cal)
    today = calendar.local_date(now, cal)
    days_total = (calendar.local_date(month_end - timedelta(seconds=1), cal) - first_day).days + 1
    days_elapsed = (today - first_day).days + 1
    sums = _sums(_rollups(tenant, Filters(start=first_day, end=today, program=program)))
    return pacing_compute(
        spent_minor=sums["reward_cost_minor"],
        converted=sums["converted"],
        days_elapsed=days_elapsed,
        days_total=days_total,
        budget_minor=targets.monthly_budget_minor,
        target_cpra_minor=targets.target_cpra_minor,
        currency=program.currency,
    )


def pacing_compute(
    *,
    spent_minor: int,
    converted: int,
    days_elapsed: int,
    days_total: int,
    budget_minor: int | None,
    target_cpra_minor: int | None,
    currency: str,
) -> dict:
    projected = spent_minor * days_total // max(days_elapsed, 1)
    cpra = spent_minor // converted if converted else None
    warnings = []
    if budget_minor is not None and projected > budget_minor:
        warnings.append("budget")
    if target_cpra_minor is not None and cpra is not None and cpra > target_cpra_minor:
        warnings.append("cpra")
    return {
        "spent": {"amount_minor": spent_minor, "currency": currency},
        "projected": {"amount_minor": projected, "currency": currency},
        "budget": None
        if budget_minor is None
        else {"amount_minor": budget_minor, "currency": currency},
        "cpra": None if cpra is None else {"amount_minor": cpra, "currency": currency},
        "target_cpra": None
        if target_cpra_minor is None
        else {"amount_minor": target_cpra_minor, "currency": currency},
        "days_elapsed": days_elapsed,
        "days_total": days_total,
        "warnings": warnings,
    }


def holdout_report(*, tenant, program: Program, filters: Filters) -> dict | None:
    """Treated against held-out members (everyone enrolled in the program by the range's end,
    split by `programs.holdout`): per member, their own revenue in the range (purchases minus
    refunds) and the referred customers they brought, each difference with its 95 %
    confidence interval (Welch, normal approximation). A difference is told only when both
    groups have at least `MIN_GROUP` members and its interval excludes 0; otherwise the
    sample is too small to tell. Money in minor units of the program's currency."""
    from programs.holdout import holdout_members, holdout_settings

    from .experiments import MIN_GROUP, mean_difference

    settings = holdout_settings(program.spec, program.pk)
    if settings is None:
        return None
    lo, hi = calendar.date_range_bounds(filters.start, filters.end, tenant.calendar)
    enrolled = Enrollment.objects.for_tenant(tenant).filter(program=program, created_at__lt=hi)
    members = list(enrolled.values_list("participant_id", flat=True))
    held = holdout_members(program, members)
    revenue: dict[int, int] = defaultdict(int)
    for pid, type_, amount in (
        Event.objects.for_tenant(tenant)
        .filter(
            participant_id__in=enrolled.values("participant_id"),
            type__in=(EventType.PURCHASE, EventType.REFUND),
            occurred_at__gte=lo,
            occurred_at__lt=hi,
        )
        .filter(Q(currency=program.currency) | Q(currency=""))
        .values_list("participant_id", "type", "amount_minor")
    ):
        revenue[pid] += (amount or 0) * (-1 if type_ == EventType.REFUND else 1)
    brought: dict[int, int] = defaultdict(int)
    for referrer_id in (
        CustomerFact.objects.for_tenant(tenant)
        .filter(
            program=program,
            signup_day__gte=filters.start,
            signup_day__lte=filters.end,
            excluded=False,
        )
        .exclude(referrer=None)
        .values_list("referrer_id", flat=True)
    ):
        brought[referrer_id] += 1
    treated_ids = [p for p in members if p not in held]
    held_ids = [p for p in members if p in held]

    def measure(values: dict[int, int], money: bool) -> dict:
        diff = mean_difference([values[p] for p in treated_ids], [values[p] for p in held_ids])
        out = {"treated_total": sum(values[p] for p in treated_ids),
               "held_out_total": sum(values[p] for p in held_ids),
               "tell": bool(diff and diff.significant)}  # fmt: skip
        names = ("treated_mean", "held_out_mean", "difference", "ci_low", "ci_high")
        for name in names:
            value = getattr(diff, name) if diff else None
            if money and value is not None:
                value = {"amount_minor": int(round(value)), "currency": program.currency}
            elif value is not None:
                value = round(value, 3)
            out[name] = value
        return out

    too_small = min(len(treated_ids), len(held_ids)) < MIN_GROUP
    return {
        "share_percent": settings[0] / 100,
        "treated_members": len(treated_ids),
        "held_out_members": len(held_ids),
        "revenue_per_member": measure(revenue, money=True),
        "customers_per_member": measure(brought, money=False),
        "too_small": too_small,
        "min_group": MIN_GROUP,
        "currency": program.currency,
    }


def pilot_regions(spec: dict) -> list[str]:
    """Regions a program singles out in its boosts (e.g. the south-china pilot), which the
    breakdown page reports separately."""
    found: set[str] = set()

    def walk(node) -> None:
        if isinstance(node, dict):
            # Conditions read `{"field": "referrer.region", "op": "eq", "value": "south-china"}`.
            if str(node.get("field", "")).endswith("region") and isinstance(node.get("value"), str):
                found.add(node["value"])
            for key, value in node.items():
                if key == "region" and isinstance(value, str):
                    found.add(value)
                elif key == "region" and isinstance(value, list):
                    found.update(v for v in value if isinstance(v, str))
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk((spec or {}).get("boosts") or [])
    return sorted(found)


def dimension_values(*, tenant, filters: Filters) -> dict[str, list[str]]:
    """The channels, regions and segments that have data in the range (filter choices)."""
    qs = _rollups(tenant, filters, dims=False)
    return {
        name: [v for v in qs.values_list(name, flat=True).distinct().order_by(name) if v]
        for name in ("channel", "region", "segment")
    }
