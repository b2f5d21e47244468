"""Rollups from raw rows: whole tenant-local days recomputed at a time.

Both the incremental job and `rebuild_rollups` go through `days_refresh`, so a rebuild and
the increments cannot disagree about what a day contains; the incremental job only has to
find *which* days (and customers) changed since its watermark. Recomputing a whole day
makes the job safe to run twice and safe against late events (a refund dated last week
marks last week's days dirty, not today's).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta

from django.db import connections, transaction
from django.db.models import Count, Exists, Min, OuterRef, Q, Sum

from fraud.models import Assessment, ReviewCase
from programs.models import Program, ProgramVersion
from referral_platform.core import calendar, clock
from rewards.models import Reward, RewardStatus
from tracking.models import (
    Click,
    Enrollment,
    Event,
    EventType,
    Participant,
    Referral,
    ReferralStage,
    ReferralStatus,
)

from . import rollups_sql
from .kpis import FACE, reward_valuation
from .models import CustomerDaily, CustomerFact, DailyRollup, ReferrerDaily, RollupState

# Rows written while a run was starting may commit with an earlier auto_now timestamp;
# re-reading a few minutes is harmless because whole days are recomputed.
OVERLAP = timedelta(minutes=5)
STAGE_STATUSES = (ReferralStatus.QUALIFIED, ReferralStatus.CONVERTED, ReferralStatus.RETAINED)
_CHUNK = 2000


def _chunks(ids: Iterable, size: int = _CHUNK):
    ids = list(ids)
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


# --- pure helpers ---------------------------------------------------------------------------


def participant_dims(attributes: dict | None, segments: list | None) -> tuple[str, str]:
    """(region, segment) of a participant: `attributes.region` and the first segment."""
    region = str((attributes or {}).get("region") or "")[:60]
    segment = str((segments or [""])[0] or "")[:60] if segments else ""
    return region, segment


def evidence_method(source: str, click_id: str) -> str:
    """How an attributed referral was evidenced (the attribution-coverage breakdown)."""
    if source in ("link", "qr"):
        return "click_id" if click_id else "cookie"
    return source or "none"


def referral_channel(source: str, click_source: str | None) -> str:
    """A link or QR referral takes its click's source, so a WeChat share's sign-ups are
    reported under `wechat`; other referrals are reported by their attribution source."""
    if source in ("link", "qr") and click_source:
        return click_source[:20]
    return source[:20]


# --- lookups ------------------------------------------------------------------------------


class _Dims:
    """Cached participant and referral dimensions for one run."""

    def __init__(self, tenant):
        self.tenant = tenant
        self.participants: dict[int, tuple[str, str]] = {}
        self.referrals: dict[int, tuple[int, int, str]] = {}  # id → (program, referrer, chan)

    def load_participants(self, ids: Iterable[int]) -> None:
        missing = {i for i in ids if i is not None and i not in self.participants}
        for chunk in _chunks(missing):
            for pid, attrs, segs in (
                Participant.objects.for_tenant(self.tenant)
                .filter(pk__in=chunk)
                .values_list("pk", "attributes", "segments")
            ):
                self.participants[pid] = participant_dims(attrs, segs)

    def participant(self, pid: int | None) -> tuple[str, str]:
        return self.participants.get(pid, ("", ""))

    def load_referrals(self, ids: Iterable[int]) -> None:
        missing = {i for i in ids if i not in self.referrals}
        rows = []
        for chunk in _chunks(missing):
            rows += list(
                Referral.objects.for_tenant(self.tenant)
                .filter(pk__in=chunk)
                .values_list("pk", "program_id", "referrer_id", "source", "click_id")
            )
        click_ids = {r[4] for r in rows if r[4]}
        click_source: dict[str, str] = {}
        for chunk in _chunks(click_ids):
            click_source.update(
                Click.objects.for_tenant(self.tenant)
                .filter(pk__in=chunk)
                .values_list("pk", "source")
            )
        for pk, program_id, referrer_id, source, click_id in rows:
            self.referrals[pk] = (
                program_id,
                referrer_id,
                referral_channel(source, click_source.get(click_id)),
            )
        self.load_participants(r[2] for r in rows)

    def referral_key(self, referral_id: int, day: date) -> tuple:
        program_id, referrer_id, channel = self.referrals[referral_id]
        region, segment = self.participant(referrer_id)
        return (program_id, day, channel, region, segment)


def reward_keys(tenant, rewards: list[dict], dims: _Dims | None = None):
    """`key_for(reward, day)`: the rollup key a reward counts under on a day. A referral's
    reward takes its referral's channel and its referrer's region and segment; a reward of
    no referral (a tier, a season prize) its beneficiary's, with no channel. `rewards` are
    dicts with `referral_id`, `participant_id` and `program_id`."""
    dims = dims or _Dims(tenant)
    dims.load_referrals(r["referral_id"] for r in rewards if r["referral_id"])
    dims.load_participants(r["participant_id"] for r in rewards)

    def key_for(r: dict, day: date | None) -> tuple:
        if r["referral_id"]:
            return dims.referral_key(r["referral_id"], day)
        region, segment = dims.participant(r["participant_id"])
        return (r["program_id"], day, "", region, segment)

    return key_for


# --- computing days -------------------------------------------------------------------------


def _point_values(tenant) -> dict[int, dict | None]:
    out = {}
    for program in Program.objects.for_tenant(tenant).select_related("current_version"):
        out[program.pk] = (program.spec or {}).get("point_value")
    return out


def _spec_item_estimate(spec: dict, reason: str) -> int | None:
    """The `estimated_value` the spec gives the item a reward came from (`stage:<key>`,
    `tier:<key>` …): the spec's own assumption of what a percent coupon is worth."""
    key = (reason or "").partition(":")[2]
    if not key:
        return None
    stack: list = [spec]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if node.get("key") == key and node.get("percent_off") is not None:
                value = node.get("estimated_value")
                return None if value is None else int(value)
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return None


def _coupon_redemptions(tenant, rewards: list[dict]) -> dict[int, int]:
    """Reward id → the order a percent coupon was used on: its holder's first purchase at
    or after the coupon could be used (the referee's sign-up for a referee offer, else the
    coupon's creation) that meets its `min_spend`. Coupons with a known amount need none."""
    wanted = [
        r
        for r in rewards
        if r["kind"] == "coupon"
        and (r["details"] or {}).get("percent_off") is not None
        and r["amount_minor"] is None
        and (r["details"] or {}).get("computed_amount") is None
    ]
    if not wanted:
        return {}
    purchases: dict[int, list[tuple[datetime, int]]] = defaultdict(list)
    for chunk in _chunks({r["participant_id"] for r in wanted}):
        for pid, at, amount in (
            Event.objects.for_tenant(tenant)
            .filter(type=EventType.PURCHASE, participant_id__in=chunk, amount_minor__gt=0)
            .order_by("occurred_at", "pk")
            .values_list("participant_id", "occurred_at", "amount_minor")
        ):
            purchases[pid].append((at, int(amount)))
    out = {}
    for r in wanted:
        since = r["created_at"]
        if r["side"] == "referee" and r["referral__created_at"] is not None:
            since = r["referral__created_at"]
        floor = int((r["details"] or {}).get("min_spend") or 0)
        for at, amount in purchases.get(r["participant_id"], ()):
            if at >= since and amount >= floor:
                out[r["pk"]] = amount
                break
    return out


_REWARD_FIELDS = (
    "pk",
    "program_id",
    "referral_id",
    "participant_id",
    "kind",
    "amount_minor",
    "points",
    "details",
    "status",
    "fulfilled_at",
    "reversed_at",
    "reversed_amount_minor",
    "program_version__spec",
    "side",
    "reason",
    "created_at",
    "referral__created_at",
)


def _add_reward_costs(tenant, daily, rewards: list[dict], lo, hi, key_for, spec_of) -> None:
    """Add the rewards' cost to `daily`: the fulfilled value on the day of fulfilment, a
    clawback on its day. `key_for(reward, day)` is the reward's rollup key on a day."""
    cal = tenant.calendar
    point_values = _point_values(tenant)
    redemptions = _coupon_redemptions(tenant, rewards)
    for r in rewards:
        spec = spec_of(r) or {}
        value, basis = reward_valuation(
            kind=r["kind"],
            amount_minor=r["amount_minor"],
            points=r["points"],
            details=r["details"],
            point_value=spec.get("point_value") or point_values.get(r["program_id"]),
            redeemed_order_minor=redemptions.get(r["pk"]),
            expected_minor=_spec_item_estimate(spec, r["reason"]),
        )
        if lo <= r["fulfilled_at"] < hi:
            row = daily[key_for(r, calendar.local_date(r["fulfilled_at"], cal))]
            row["rewards_fulfilled"] += 1
            row["reward_cost_minor"] += value
            row["cost:" + r["kind"]] += value
            if basis != FACE:
                row[f"basis:{basis}"] += value
                row[f"basis:{basis}_count"] += 1
        if (
            r["status"] == RewardStatus.REVERSED
            and r["reversed_at"] is not None
            and lo <= r["reversed_at"] < hi
        ):
            clawed = value
            if r["kind"] != "points" and r["reversed_amount_minor"] is not None:
                clawed = min(int(r["reversed_amount_minor"]), value)
            row = daily[key_for(r, calendar.local_date(r["reversed_at"], cal))]
            row["reward_cost_minor"] -= clawed
            row["cost:" + r["kind"]] -= clawed


def _compute(tenant, start: date, end: date):
    """Every rollup row of the tenant-local days `[start, end]`, from raw rows."""
    cal = tenant.calendar
    lo, hi = calendar.date_range_bounds(start, end, cal)

    def day_of(when: datetime) -> date:
        return calendar.local_date(when, cal)

    dims = _Dims(tenant)
    daily: dict[tuple, dict] = defaultdict(lambda: defaultdict(int))
    referrer: dict[tuple, dict] = defaultdict(lambda: defaultdict(int))
    programs = {p.slug: p.pk for p in Program.objects.for_tenant(tenant).only("pk", "slug")}

    # Shares: the program named in `properties.program`, else the sharer's first enrollment.
    shares = list(
        Event.objects.for_tenant(tenant)
        .filter(type=EventType.SHARE, occurred_at__gte=lo, occurred_at__lt=hi)
        .exclude(participant=None)
        .values_list("occurred_at", "participant_id", "payload")
    )
    sharers = {s[1] for s in shares}
    first_program: dict[int, int] = {}
    for chunk in _chunks(sharers):
        for pid, program_id in (
            Enrollment.objects.for_tenant(tenant)
            .filter(participant_id__in=chunk)
            .order_by("-pk")
            .values_list("participant_id", "program_id")
        ):
            first_program[pid] = program_id
    dims.load_participants(sharers)
    for occurred_at, pid, payload in shares:
        props = (payload or {}).get("properties") or {}
        program_id = programs.get(props.get("program")) or first_program.get(pid)
        if program_id is None:
            continue
        day = day_of(occurred_at)
        region, segment = dims.participant(pid)
        channel = str(props.get("channel") or "share")[:20]
        daily[(program_id, day, channel, region, segment)]["shares"] += 1
        referrer[(program_id, day, pid, channel)]["shares"] += 1

    # Clicks: human ones, one per click id (the id is the primary key).
    clicks = (
        Click.objects.for_tenant(tenant)
        .filter(created_at__gte=lo, created_at__lt=hi, is_bot=False)
        .exclude(ua_class="bot")
        .values_list("created_at", "program_id", "source", "enrollment__participant_id")
    )
    click_rows = list(clicks)
    dims.load_participants(r[3] for r in click_rows)
    for created_at, program_id, source, pid in click_rows:
        day = day_of(created_at)
        region, segment = dims.participant(pid)
        daily[(program_id, day, source[:20], region, segment)]["clicks"] += 1
        if pid is not None:
            referrer[(program_id, day, pid, source[:20])]["clicks"] += 1

    # Sign-ups (and the fraud counts, by the referral's creation day).
    created = list(
        Referral.objects.for_tenant(tenant)
        .filter(created_at__gte=lo, created_at__lt=hi)
        .annotate(
            assessed=Exists(Assessment.objects.for_tenant(tenant).filter(referral=OuterRef("pk")))
        )
        .values_list("pk", "created_at", "status", "assessed", "referrer_id", "program_id")
    )
    dims.load_referrals(r[0] for r in created)
    for pk, created_at, status, assessed, referrer_id, program_id in created:
        day = day_of(created_at)
        row = daily[dims.referral_key(pk, day)]
        row["assessed"] += int(assessed)
        # The fraud rate is the share of assessed referrals rejected: one rejected without
        # an assessment is not part of its denominator, so not of its numerator either.
        if status == ReferralStatus.REJECTED and assessed:
            row["rejected"] += 1
            continue
        row["signups"] += 1
        referrer[(program_id, day, referrer_id, dims.referrals[pk][2])]["referrals"] += 1

    # Stages: a referral reaches a status at its earliest live stage setting it.
    candidates = set(
        ReferralStage.objects.for_tenant(tenant)
        .filter(
            occurred_at__gte=lo,
            occurred_at__lt=hi,
            reversed_at=None,
            status_set__in=STAGE_STATUSES,
        )
        .exclude(referral__status=ReferralStatus.REJECTED)
        .values_list("referral_id", flat=True)
    )
    firsts = []
    for chunk in _chunks(candidates):
        firsts += list(
            ReferralStage.objects.for_tenant(tenant)
            .filter(referral_id__in=chunk, reversed_at=None, status_set__in=STAGE_STATUSES)
            .values("referral_id", "status_set", "referral__source", "referral__click_id")
            .annotate(first=Min("occurred_at"))
        )
    dims.load_referrals(f["referral_id"] for f in firsts)
    for f in firsts:
        if not (lo <= f["first"] < hi):
            continue
        day = day_of(f["first"])
        key = dims.referral_key(f["referral_id"], day)
        row = daily[key]
        row[f["status_set"]] += 1
        if f["status_set"] == ReferralStatus.CONVERTED:
            method = evidence_method(f["referral__source"], f["referral__click_id"])
            row["coverage:" + method] += 1
            referrer[(*key[:2], *dims.referrals[f["referral_id"]][1:])]["successes"] += 1

    # Rewarded: the day a referral's first reward was fulfilled.
    rewarded_candidates = set(
        Reward.objects.for_tenant(tenant)
        .filter(fulfilled_at__gte=lo, fulfilled_at__lt=hi)
        .exclude(referral=None)
        .exclude(referral__status=ReferralStatus.REJECTED)
        .values_list("referral_id", flat=True)
    )
    first_fulfilled = []
    for chunk in _chunks(rewarded_candidates):
        first_fulfilled += list(
            Reward.objects.for_tenant(tenant)
            .filter(referral_id__in=chunk)
            .exclude(fulfilled_at=None)
            .values("referral_id")
            .annotate(first=Min("fulfilled_at"))
        )
    dims.load_referrals(f["referral_id"] for f in first_fulfilled)
    for f in first_fulfilled:
        if lo <= f["first"] < hi:
            daily[dims.referral_key(f["referral_id"], day_of(f["first"]))]["rewarded"] += 1

    # Reward cost: fulfilled value on the day of fulfilment, clawbacks on their day.
    fulfilled = list(
        Reward.objects.for_tenant(tenant)
        .filter(
            Q(fulfilled_at__gte=lo, fulfilled_at__lt=hi)
            | Q(
                status=RewardStatus.REVERSED,
                reversed_at__gte=lo,
                reversed_at__lt=hi,
                fulfilled_at__isnull=False,
            )
        )
        .values(*_REWARD_FIELDS)
    )
    key_for = reward_keys(tenant, fulfilled, dims)
    _add_reward_costs(
        tenant, daily, fulfilled, lo, hi, key_for, lambda r: r["program_version__spec"]
    )

    # Eligible enrollments: the participation-rate denominator accumulates from these.
    enrollments = list(
        Enrollment.objects.for_tenant(tenant)
        .filter(created_at__gte=lo, created_at__lt=hi, eligible=True)
        .values_list("created_at", "program_id", "participant_id")
    )
    dims.load_participants(e[2] for e in enrollments)
    for created_at, program_id, pid in enrollments:
        region, segment = dims.participant(pid)
        daily[(program_id, day_of(created_at), "", region, segment)]["enrollments"] += 1

    referrer_dims = {
        key: dims.participant(key[2]) for key in referrer
    }  # region/segment of each referrer row
    return daily, referrer, referrer_dims


_COUNTERS = (
    "shares",
    "clicks",
    "signups",
    "qualified",
    "converted",
    "retained",
    "rewarded",
    "assessed",
    "rejected",
    "enrollments",
    "rewards_fulfilled",
    "reward_cost_minor",
)


def _compute_set_based(tenant, start: date, end: date) -> dict[tuple, dict]:
    """`_compute`'s DailyRollup values summed in the database (`rollups_sql`); the
    per-referrer rows are written there by `rollups_sql.referrer_daily_insert` from the same
    facts (`rollups_sql.facts_collect`)."""
    lo, hi = calendar.date_range_bounds(start, end, tenant.calendar)
    daily: dict[tuple, dict] = defaultdict(lambda: defaultdict(int))
    rollups_sql.facts_collect(tenant, lo, hi)
    for program_id, day, channel, region, segment, measure, n in rollups_sql.daily_counts(tenant):
        daily[(program_id, day, channel, region, segment)][measure] += int(n)
    specs = dict(ProgramVersion.objects.for_tenant(tenant).values_list("pk", "spec"))

    def key_for(r: dict, day: date) -> tuple:
        return (r["key_program_id"], day, r["key_channel"], r["key_region"], r["key_segment"])

    # Rewards come back one row each: a month at a time bounds the memory of a rebuild.
    cursor = start
    while cursor <= end:
        month_end = min(cursor + timedelta(days=30), end)
        m_lo, m_hi = calendar.date_range_bounds(cursor, month_end, tenant.calendar)
        rewards = rollups_sql.reward_rows(tenant, m_lo, m_hi)
        _add_reward_costs(
            tenant,
            daily,
            rewards,
            m_lo,
            m_hi,
            key_for,
            lambda r: specs.get(r["program_version_id"]),
        )
        cursor = month_end + timedelta(days=1)
    return daily


def _daily_rollups(tenant, daily: dict[tuple, dict]) -> list[DailyRollup]:
    rows = []
    for (program_id, day, channel, region, segment), values in daily.items():
        rows.append(
            DailyRollup(
                tenant=tenant,
                program_id=program_id,
                day=day,
                channel=channel,
                region=region,
                segment=segment,
                cost_by_kind={
                    k[5:]: v for k, v in sorted(values.items()) if k.startswith("cost:") and v
                },
                coverage={
                    k[9:]: v for k, v in sorted(values.items()) if k.startswith("coverage:") and v
                },
                cost_basis={
                    k[6:]: v for k, v in sorted(values.items()) if k.startswith("basis:") and v
                },
                **{name: values.get(name, 0) for name in _COUNTERS},
            )
        )
    return rows


@transaction.atomic
def days_refresh(*, tenant, start: date, end: date) -> int:
    """Recompute the rollups of tenant-local days `[start, end]`; returns rows written.
    Set-based on PostgreSQL (`rollups_sql`), in Python elsewhere: the same rows."""
    set_based = rollups_sql.supported()
    if set_based:
        daily = _compute_set_based(tenant, start, end)
    else:
        daily, referrer, referrer_dims = _compute(tenant, start, end)
    DailyRollup.objects.for_tenant(tenant).filter(day__gte=start, day__lte=end).delete()
    ReferrerDaily.objects.for_tenant(tenant).filter(day__gte=start, day__lte=end).delete()
    rows = _daily_rollups(tenant, daily)
    DailyRollup.unscoped.bulk_create(rows, batch_size=1000)
    if set_based:
        written = rollups_sql.referrer_daily_insert(tenant)
        rollups_sql.facts_drop()
        return len(rows) + written
    referrer_rows = [
        ReferrerDaily(
            tenant=tenant,
            program_id=program_id,
            day=day,
            participant_id=pid,
            channel=channel,
            region=referrer_dims[(program_id, day, pid, channel)][0],
            segment=referrer_dims[(program_id, day, pid, channel)][1],
            shares=values.get("shares", 0),
            clicks=values.get("clicks", 0),
            referrals=values.get("referrals", 0),
            successes=values.get("successes", 0),
        )
        for (program_id, day, pid, channel), values in referrer.items()
    ]
    ReferrerDaily.unscoped.bulk_create(referrer_rows, batch_size=1000)
    return len(rows) + len(referrer_rows)


def _runs(days: Iterable[date]) -> list[tuple[date, date]]:
    """Contiguous `[start, end]` runs of the given days."""
    runs: list[tuple[date, date]] = []
    for day in sorted(set(days)):
        if runs and day == runs[-1][1] + timedelta(days=1):
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))
    return runs


# --- customers ------------------------------------------------------------------------------


def customer_fact_values(
    *,
    signup_at: datetime,
    events: list[tuple[str, datetime, int | None, str, dict]],
    cal,
) -> dict:
    """The cohort facts of one customer from their events `(type, occurred_at, amount_minor,
    order_id, properties)`. Pure: SEMANTICS §7's retention, repurchase, revenue and LTV."""

    def active_between(first: int, last: int) -> bool:
        lo, hi = signup_at + timedelta(days=first), signup_at + timedelta(days=last)
        return any(
            t in (EventType.ACTIVITY, EventType.PURCHASE) and lo <= at <= hi for t, at, *_ in events
        )

    retained = active_between(60, 90)
    purchases = sorted(
        (e for e in events if e[0] == EventType.PURCHASE), key=lambda e: (e[1], e[3])
    )
    refunds = [e for e in events if e[0] == EventType.REFUND]
    first = purchases[0] if purchases else None
    revenue = 0
    repurchased = False
    if first is not None:
        # New ARR for subscriptions: a monthly first payment counts twelve times.
        factor = 12 if (first[4] or {}).get("billing_period") == "monthly" else 1
        refunded = sum(r[2] or 0 for r in refunds if first[3] and r[3] == first[3])
        revenue = max((first[2] or 0) - refunded, 0) * factor
        repurchased = any(p[1] <= first[1] + timedelta(days=60) for p in purchases[1:])
    year_end = signup_at + timedelta(days=365)
    ltv = sum(p[2] or 0 for p in purchases if signup_at <= p[1] < year_end) - sum(
        r[2] or 0 for r in refunds if signup_at <= r[1] < year_end
    )
    return {
        "retained_90d": retained,
        "retained_30d": active_between(20, 30),
        "first_purchase_day": calendar.local_date(first[1], cal) if first else None,
        "first_purchase_revenue_minor": revenue,
        "repurchased_60d": repurchased,
        "ltv_365d_minor": ltv,
    }


def _fact_days(facts) -> set[date]:
    return {d for pair in facts.values_list("signup_day", "first_purchase_day") for d in pair if d}


def _customers_refresh_set_based(tenant, participant_ids: set[int] | None) -> int:
    """`customers_refresh` in the database (`rollups_sql.customer_facts_insert`); None
    means every participant (a rebuild, after every fact was deleted)."""
    facts = CustomerFact.objects.for_tenant(tenant)
    if participant_ids is None:
        written = rollups_sql.customer_facts_insert(tenant, None)
        days = _fact_days(facts)
    else:
        written, days = 0, set()
        for chunk in _chunks(participant_ids, 20_000):
            stale = facts.filter(participant_id__in=chunk)
            days |= _fact_days(stale)
            stale.delete()
            written += rollups_sql.customer_facts_insert(tenant, chunk)
            days |= _fact_days(facts.filter(participant_id__in=chunk))
    customer_days_refresh(tenant=tenant, days=days)
    return written


@transaction.atomic
def customers_refresh(*, tenant, participant_ids: Iterable[int]) -> int:
    """Recompute the CustomerFact of these participants (those without a sign-up have none)."""
    if rollups_sql.supported():
        return _customers_refresh_set_based(tenant, set(participant_ids))
    cal = tenant.calendar
    written = 0
    days: set[date] = set()
    for chunk in _chunks(set(participant_ids), 500):
        events: dict[int, list] = defaultdict(list)
        for pid, type_, at, amount, order_id, payload in (
            Event.objects.for_tenant(tenant)
            .filter(participant_id__in=chunk)
            .exclude(type=EventType.SHARE)
            .values_list(
                "participant_id", "type", "occurred_at", "amount_minor", "order_id", "payload"
            )
        ):
            props = (payload or {}).get("properties") or {}
            events[pid].append((type_, at, amount, order_id, props))
        referrals: dict[int, list] = defaultdict(list)
        for ref in (
            Referral.objects.for_tenant(tenant)
            .filter(referee_id__in=chunk)
            .order_by("created_at", "pk")
            .values("pk", "referee_id", "program_id", "referrer_id", "status")
        ):
            referrals[ref["referee_id"]].append(ref)
        people = {
            p.pk: p
            for p in Participant.objects.for_tenant(tenant).filter(pk__in=chunk, merged_into=None)
        }
        stale = CustomerFact.objects.for_tenant(tenant).filter(participant_id__in=chunk)
        for signup_day, purchase_day in stale.values_list("signup_day", "first_purchase_day"):
            days.update(d for d in (signup_day, purchase_day) if d)
        stale.delete()
        facts = []
        for pid, person in people.items():
            signups = [e[1] for e in events[pid] if e[0] == EventType.SIGNUP]
            if not signups:
                continue
            signup_at = min(signups)
            live = [r for r in referrals[pid] if r["status"] != ReferralStatus.REJECTED]
            chosen = live[0] if live else None
            region, segment = participant_dims(person.attributes, person.segments)
            facts.append(
                CustomerFact(
                    tenant=tenant,
                    participant_id=pid,
                    signup_day=calendar.local_date(signup_at, cal),
                    region=region,
                    segment=segment,
                    referral_id=chosen["pk"] if chosen else None,
                    program_id=chosen["program_id"] if chosen else None,
                    referrer_id=chosen["referrer_id"] if chosen else None,
                    referral_status=chosen["status"] if chosen else "",
                    excluded=bool(referrals[pid]) and chosen is None,
                    currency=tenant.currency,
                    **customer_fact_values(signup_at=signup_at, events=events[pid], cal=cal),
                )
            )
        CustomerFact.unscoped.bulk_create(facts, batch_size=500)
        days.update(d for fact in facts for d in (fact.signup_day, fact.first_purchase_day) if d)
        written += len(facts)
    customer_days_refresh(tenant=tenant, days=days)
    return written


def customer_days_refresh(*, tenant, days: Iterable[date]) -> int:
    """Re-sum CustomerDaily for these days from CustomerFact (both bases)."""
    days = sorted(set(days))
    written = 0
    for chunk in _chunks(days, 200):
        CustomerDaily.objects.for_tenant(tenant).filter(day__in=chunk).delete()
        facts = CustomerFact.objects.for_tenant(tenant)
        rows = []
        for basis, day_field, sums in (
            ("signup", "signup_day", {
                "customers": Count("pk"),
                "retained_90d": Count("pk", filter=Q(retained_90d=True)),
                "ltv_365d_minor": Sum("ltv_365d_minor"),
            }),
            ("purchase", "first_purchase_day", {
                "customers": Count("pk"),
                "repurchased_60d": Count("pk", filter=Q(repurchased_60d=True)),
                "revenue_minor": Sum("first_purchase_revenue_minor"),
            }),
        ):  # fmt: skip
            for row in (
                facts.filter(**{f"{day_field}__in": chunk})
                .values(
                    day_field,
                    "program_id",
                    "excluded",
                    "region",
                    "segment",
                    has_referral=Q(referral__isnull=False),
                )  # fmt: skip
                .annotate(**sums)
                .order_by()
            ):
                group = (
                    "excluded"
                    if row["excluded"]
                    else "referred"
                    if row["has_referral"]
                    else "baseline"
                )
                rows.append(
                    CustomerDaily(
                        tenant=tenant,
                        day=row[day_field],
                        basis=basis,
                        group=group,
                        program_id=row["program_id"],
                        region=row["region"],
                        segment=row["segment"],
                        **{k: int(row[k] or 0) for k in sums},
                    )
                )
        CustomerDaily.unscoped.bulk_create(rows, batch_size=1000)
        written += len(rows)
    return written


# --- the two entry points -------------------------------------------------------------------


def _days_rebuild(*, tenant, started: datetime) -> int:
    """Every DailyRollup and ReferrerDaily row from raw rows; returns rows written."""
    cal = tenant.calendar
    stamps = [
        Event.objects.for_tenant(tenant).aggregate(a=Min("occurred_at"))["a"],
        Click.objects.for_tenant(tenant).aggregate(a=Min("created_at"))["a"],
        Referral.objects.for_tenant(tenant).aggregate(a=Min("created_at"))["a"],
        Enrollment.objects.for_tenant(tenant).aggregate(a=Min("created_at"))["a"],
    ]
    stamps = [s for s in stamps if s is not None]
    DailyRollup.objects.for_tenant(tenant).delete()
    ReferrerDaily.objects.for_tenant(tenant).delete()
    rows = 0
    if stamps:
        first = calendar.local_date(min(stamps), cal)
        last = calendar.local_date(started, cal) + timedelta(days=1)
        # Month-sized runs keep each run's working set small on a year of data; summed in
        # the database, one pass over each table is cheaper than one per month.
        step = (last - first) if rollups_sql.supported() else timedelta(days=30)
        cursor = first
        while cursor <= last:
            run_end = min(cursor + step, last)
            rows += days_refresh(tenant=tenant, start=cursor, end=run_end)
            cursor = run_end + timedelta(days=1)
    return rows


def _customers_rebuild(*, tenant, started: datetime) -> int:
    """Every CustomerFact and CustomerDaily row from raw rows; returns the facts written."""
    CustomerFact.objects.for_tenant(tenant).delete()
    if rollups_sql.supported():
        return _customers_refresh_set_based(tenant, None)
    ids = (
        Event.objects.for_tenant(tenant)
        .filter(type=EventType.SIGNUP)
        .values_list("participant_id", flat=True)
    )
    return customers_refresh(tenant=tenant, participant_ids={i for i in ids if i})


def _in_parallel(parts, **kwargs) -> list:
    """Run each part in its own thread, on its own connection and in its own transaction;
    returns their results in order (the first error is raised, after all have ended)."""

    def run(part):
        try:
            with transaction.atomic():
                return part(**kwargs)
        finally:
            connections.close_all()  # this thread's connection

    with ThreadPoolExecutor(max_workers=len(parts), thread_name_prefix="rollups") as pool:
        futures = [pool.submit(run, part) for part in parts]
        return [future.result() for future in futures]


def rollups_rebuild(*, tenant) -> dict:
    """Everything from raw rows: every day that has data, every customer.

    On PostgreSQL, called outside a transaction (the `rebuild_rollups` command, a deploy's
    backfill), the days and the customers are rebuilt at once, each on its own connection
    and in its own transaction: the two are independent and each is one long statement
    mostly on one core. The rollup state's row stays locked meanwhile, so the tick's
    incremental update waits instead of interleaving. Inside a caller's transaction, or on
    SQLite, they run one after the other in it."""
    started = clock.now()
    parts = (_days_rebuild, _customers_rebuild)
    parallel = rollups_sql.supported() and not transaction.get_connection().in_atomic_block
    with transaction.atomic():
        RollupState.objects.for_tenant(tenant).select_for_update().first()
        if parallel:
            rows, customers = _in_parallel(parts, tenant=tenant, started=started)
        else:
            rows, customers = (part(tenant=tenant, started=started) for part in parts)
        RollupState.objects.for_tenant(tenant).update_or_create(
            tenant=tenant, defaults={"watermark": started, "last_run_at": started}
        )
        if rollups_sql.supported():
            rollups_sql.rollups_analyze()
    return {"rows": rows, "customers": customers}


def _touched_referral_days(tenant, referral_ids: set[int], cal) -> tuple[set[date], set[int]]:
    days: set[date] = set()
    referees: set[int] = set()
    for chunk in _chunks(referral_ids):
        for created_at, referee_id in (
            Referral.objects.for_tenant(tenant)
            .filter(pk__in=chunk)
            .values_list("created_at", "referee_id")
        ):
            days.add(calendar.local_date(created_at, cal))
            referees.add(referee_id)
        for at in (
            ReferralStage.objects.for_tenant(tenant)
            .filter(referral_id__in=chunk)
            .values_list("occurred_at", flat=True)
        ):
            days.add(calendar.local_date(at, cal))
        for fulfilled_at, reversed_at in (
            Reward.objects.for_tenant(tenant)
            .filter(referral_id__in=chunk)
            .values_list("fulfilled_at", "reversed_at")
        ):
            for at in (fulfilled_at, reversed_at):
                if at is not None:
                    days.add(calendar.local_date(at, cal))
    return days, referees


@transaction.atomic
def rollups_update(*, tenant) -> dict:
    """The incremental step: find what arrived since the watermark, recompute those days
    and customers. Without a watermark yet, this is a rebuild."""
    # Two tick runners must not rewrite the same days at once: the state row is the lock.
    state = RollupState.objects.for_tenant(tenant).select_for_update().first()
    if state is None:
        return rollups_rebuild(tenant=tenant)
    cal = tenant.calendar
    started = clock.now()
    since = state.watermark - OVERLAP
    days: set[date] = set()
    customers: set[int] = set()
    referral_ids: set[int] = set()

    new_events = Event.objects.for_tenant(tenant).filter(received_at__gte=since)
    for type_, at, pid in new_events.values_list("type", "occurred_at", "participant_id"):
        if type_ == EventType.SHARE:
            days.add(calendar.local_date(at, cal))
        elif pid is not None:
            customers.add(pid)
    referral_ids |= set(
        Referral.objects.for_tenant(tenant)
        .filter(
            Q(received_at__gte=since)
            | Q(referee_id__in=customers)
            | Q(status_changed_at__gte=since)
        )
        .values_list("pk", flat=True)
    )
    referral_ids |= set(
        Assessment.objects.for_tenant(tenant)
        .filter(created_at__gte=since)
        .values_list("referral_id", flat=True)
    )
    referral_ids |= set(
        ReviewCase.objects.for_tenant(tenant)
        .filter(decided_at__gte=since)
        .values_list("referral_id", flat=True)
    )
    changed_rewards = Reward.objects.for_tenant(tenant).filter(
        Q(created_at__gte=since) | Q(fulfilled_at__gte=since) | Q(reversed_at__gte=since)
    )
    for referral_id, fulfilled_at, reversed_at in changed_rewards.values_list(
        "referral_id", "fulfilled_at", "reversed_at"
    ):
        if referral_id:
            referral_ids.add(referral_id)
        for at in (fulfilled_at, reversed_at):
            if at is not None:
                days.add(calendar.local_date(at, cal))
    # A holder's new purchase may be the order a percent coupon was used on: its day's
    # cost changes from the expected to the redeemed value.
    for chunk in _chunks(customers):
        for at in (
            Reward.objects.for_tenant(tenant)
            .filter(participant_id__in=chunk, kind="coupon", fulfilled_at__isnull=False)
            .values_list("fulfilled_at", flat=True)
        ):
            days.add(calendar.local_date(at, cal))
    for at in (
        Click.objects.for_tenant(tenant)
        .filter(created_at__gte=since)
        .values_list("created_at", flat=True)
    ):
        days.add(calendar.local_date(at, cal))
    for at in (
        Enrollment.objects.for_tenant(tenant)
        .filter(created_at__gte=since)
        .values_list("created_at", flat=True)
    ):
        days.add(calendar.local_date(at, cal))
    referral_days, referees = _touched_referral_days(tenant, referral_ids, cal)
    days |= referral_days
    customers |= referees

    rows = 0
    for start, end in _runs(days):
        rows += days_refresh(tenant=tenant, start=start, end=end)
    written = customers_refresh(tenant=tenant, participant_ids=customers)
    state.watermark = started
    state.last_run_at = started
    state.days_refreshed = len(days)
    state.save(update_fields=["watermark", "last_run_at", "days_refreshed"])
    return {"days": len(days), "rows": rows, "customers": written}
