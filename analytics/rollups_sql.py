"""The rollups of a range of days as set-based SQL (PostgreSQL).

The same rules as `rollups._compute`, which stays the reference (and the SQLite path): each
fact of the range (a share, a click, a sign-up, a referral's first stage of a status, its
first fulfilled reward, an eligible enrolment) becomes one row keyed by program, tenant-local
day, channel and the referrer's region and segment, and `GROUP BY` sums them in the database.
Only what is aggregated comes back to Python; the per-referrer rows never do (INSERT …
SELECT). A reward's cost needs `kpis.reward_valuation`, so rewards come back one row each,
their rollup key already computed here.

Dimensions follow `rollups.participant_dims` and `rollups.referral_channel`: Python's
`str(value or default)[:n]` of a JSON scalar is `_pystr` (strings, numbers and booleans; a
region or channel given as an object or list falls back to the default).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from django.db import connection

from fraud.models import Assessment
from programs.models import Program
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

from .models import CustomerDaily, CustomerFact, DailyRollup, ReferrerDaily

STAGE_STATUSES = (ReferralStatus.QUALIFIED, ReferralStatus.CONVERTED, ReferralStatus.RETAINED)


def supported() -> bool:
    return connection.vendor == "postgresql"


def _execute(cursor, sql: str, params: dict) -> None:
    # These statements run once over many rows: compiling them (JIT) costs more than it
    # saves (a second of a three-second month at 100,000 referrals), and their sorts and
    # hashes spill to disk in the default 4 MB. For the rollups' transaction only.
    cursor.execute("SET LOCAL jit = off")
    cursor.execute("SET LOCAL work_mem = '64MB'")
    cursor.execute(sql, params)


def _t(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _pystr(json: str, default: str, n: int) -> str:
    """SQL for Python's `str(value or default)[:n]` of the JSON scalar `json`."""
    d = _lit(default[:n])
    return (
        f"CASE jsonb_typeof({json})"
        f" WHEN 'string' THEN CASE WHEN ({json} #>> '{{}}') = '' THEN {d}"
        f"  ELSE left({json} #>> '{{}}', {n}) END"
        f" WHEN 'number' THEN CASE WHEN ({json} #>> '{{}}')::numeric = 0 THEN {d}"
        f"  ELSE left({json} #>> '{{}}', {n}) END"
        f" WHEN 'boolean' THEN CASE WHEN ({json})::boolean THEN left('True', {n}) ELSE {d} END"
        f" ELSE {d} END"
    )


def _region(p: str) -> str:
    return _pystr(f"{p}.attributes -> 'region'", "", 60)


def _segment(p: str) -> str:
    return _pystr(f"{p}.segments -> 0", "", 60)


def _day(column: str) -> str:
    return f"(({column}) AT TIME ZONE %(tz)s)::date"


_STAGES = ", ".join(_lit(s) for s in STAGE_STATUSES)
_REJECTED = _lit(ReferralStatus.REJECTED)


def _referral_dims() -> str:
    """A referral's rollup key parts: program, channel (a link or QR referral takes its
    click's source), the referrer and the referrer's region and segment."""
    return f"""
    SELECT r.id, r.program_id, r.referrer_id, r.source, r.click_id, r.status, r.created_at,
        CASE WHEN r.source IN ('link', 'qr') AND COALESCE(cl.source, '') <> ''
             THEN left(cl.source, 20) ELSE left(r.source, 20) END AS channel,
        {_region("p")} AS region, {_segment("p")} AS segment
    FROM {_t(Referral)} r
    LEFT JOIN {_t(Click)} cl ON cl.tenant_id = r.tenant_id AND cl.id = r.click_id
    LEFT JOIN {_t(Participant)} p ON p.tenant_id = r.tenant_id AND p.id = r.referrer_id
    WHERE r.tenant_id = %(tenant)s"""  # noqa: S608 (constants only; values are bound parameters)


def _facts() -> str:
    """Every counted fact of `[lo, hi)`: program_id, day, channel, pid (the participant
    whose region and segment key the row; for a referral, its referrer), measure, n, and
    referrer (the participant of the per-referrer row, NULL when it has none)."""
    shares = f"""
    SELECT COALESCE(pg.id, fe.program_id) AS program_id, {_day("e.occurred_at")} AS day,
        {_pystr("e.payload -> 'properties' -> 'channel'", "share", 20)} AS channel,
        e.participant_id AS pid, 'shares' AS measure, 1 AS n, e.participant_id AS referrer
    FROM {_t(Event)} e
    LEFT JOIN {_t(Program)} pg ON pg.tenant_id = e.tenant_id
        AND jsonb_typeof(e.payload -> 'properties' -> 'program') = 'string'
        AND pg.slug = e.payload -> 'properties' ->> 'program'
    LEFT JOIN LATERAL (
        SELECT en.program_id FROM {_t(Enrollment)} en
        WHERE en.tenant_id = e.tenant_id AND en.participant_id = e.participant_id
        ORDER BY en.id LIMIT 1
    ) fe ON true
    WHERE e.tenant_id = %(tenant)s AND e.type = {_lit(EventType.SHARE)}
        AND e.occurred_at >= %(lo)s AND e.occurred_at < %(hi)s
        AND e.participant_id IS NOT NULL
        AND COALESCE(pg.id, fe.program_id) IS NOT NULL"""  # noqa: S608 (constants only; values are bound parameters)
    clicks = f"""
    SELECT c.program_id, {_day("c.created_at")}, left(c.source, 20), en.participant_id,
        'clicks', 1, en.participant_id
    FROM {_t(Click)} c
    LEFT JOIN {_t(Enrollment)} en ON en.id = c.enrollment_id
    WHERE c.tenant_id = %(tenant)s AND c.created_at >= %(lo)s AND c.created_at < %(hi)s
        AND NOT c.is_bot AND c.ua_class <> 'bot'"""  # noqa: S608 (constants only; values are bound parameters)
    # Sign-ups; a rejected referral that was assessed counts as rejected instead.
    signups = f"""
    SELECT s.program_id, s.day, s.channel, s.referrer_id, m.measure, m.n,
        CASE WHEN m.measure = 'signups' THEN s.referrer_id END
    FROM (
        SELECT d.*, {_day("d.created_at")} AS day,
            EXISTS (SELECT 1 FROM {_t(Assessment)} a
                    WHERE a.tenant_id = %(tenant)s AND a.referral_id = d.id) AS assessed
        FROM ({_referral_dims()}) d
        WHERE d.created_at >= %(lo)s AND d.created_at < %(hi)s
    ) s
    CROSS JOIN LATERAL (VALUES
        ('assessed', s.assessed::int),
        (CASE WHEN s.status = {_REJECTED} AND s.assessed THEN 'rejected' ELSE 'signups' END, 1)
    ) m(measure, n)"""  # noqa: S608 (constants only; values are bound parameters)
    # A referral reaches a status at its earliest live stage setting it.
    stages = f"""
    SELECT d.program_id, {_day("f.first")}, d.channel, d.referrer_id, m.measure, 1,
        CASE WHEN m.measure = 'successes' THEN d.referrer_id END
    FROM (
        SELECT s.referral_id, s.status_set, min(s.occurred_at) AS first
        FROM {_t(ReferralStage)} s
        WHERE s.tenant_id = %(tenant)s AND s.reversed_at IS NULL AND s.status_set IN ({_STAGES})
            AND s.referral_id IN (
                SELECT referral_id FROM {_t(ReferralStage)}
                WHERE tenant_id = %(tenant)s AND reversed_at IS NULL
                    AND status_set IN ({_STAGES})
                    AND occurred_at >= %(lo)s AND occurred_at < %(hi)s)
        GROUP BY s.referral_id, s.status_set
        HAVING min(s.occurred_at) >= %(lo)s AND min(s.occurred_at) < %(hi)s
    ) f
    JOIN ({_referral_dims()}) d ON d.id = f.referral_id
    CROSS JOIN LATERAL (
        SELECT f.status_set::text
        UNION ALL
        SELECT 'coverage:' || CASE
            WHEN d.source IN ('link', 'qr') THEN
                CASE WHEN COALESCE(d.click_id, '') <> '' THEN 'click_id' ELSE 'cookie' END
            ELSE COALESCE(NULLIF(d.source, ''), 'none') END
        WHERE f.status_set = {_lit(ReferralStatus.CONVERTED)}
        UNION ALL
        SELECT 'successes' WHERE f.status_set = {_lit(ReferralStatus.CONVERTED)}
    ) m(measure)
    WHERE d.status <> {_REJECTED}"""  # noqa: S608 (constants only; values are bound parameters)
    # Rewarded: the day a referral's first reward was fulfilled.
    rewarded = f"""
    SELECT d.program_id, {_day("f.first")}, d.channel, d.referrer_id, 'rewarded', 1,
        NULL::bigint
    FROM (
        SELECT w.referral_id, min(w.fulfilled_at) AS first
        FROM {_t(Reward)} w
        WHERE w.tenant_id = %(tenant)s AND w.fulfilled_at IS NOT NULL
            AND w.referral_id IN (
                SELECT referral_id FROM {_t(Reward)}
                WHERE tenant_id = %(tenant)s AND referral_id IS NOT NULL
                    AND fulfilled_at >= %(lo)s AND fulfilled_at < %(hi)s)
        GROUP BY w.referral_id
        HAVING min(w.fulfilled_at) >= %(lo)s AND min(w.fulfilled_at) < %(hi)s
    ) f
    JOIN ({_referral_dims()}) d ON d.id = f.referral_id
    WHERE d.status <> {_REJECTED}"""  # noqa: S608 (constants only; values are bound parameters)
    enrollments = f"""
    SELECT en.program_id, {_day("en.created_at")}, '', en.participant_id, 'enrollments', 1,
        NULL::bigint
    FROM {_t(Enrollment)} en
    WHERE en.tenant_id = %(tenant)s AND en.eligible
        AND en.created_at >= %(lo)s AND en.created_at < %(hi)s"""  # noqa: S608 (constants only; values are bound parameters)
    return " UNION ALL ".join((shares, clicks, signups, stages, rewarded, enrollments))


def _params(tenant, lo: datetime, hi: datetime) -> dict:
    return {"tenant": tenant.pk, "lo": lo, "hi": hi, "tz": tenant.calendar.timezone}


FACTS = "rollup_facts"


def facts_collect(tenant, lo: datetime, hi: datetime) -> None:
    """Every counted fact of `[lo, hi)` into a temporary table, read by `daily_counts` and
    `referrer_daily_insert` (dropped by `facts_drop` or at the end of the transaction)."""
    long_range = hi - lo > timedelta(days=40)
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS pg_temp.{FACTS}")
        if long_range:
            # A rebuild joins most rows of each table: hash joins, whatever the estimates
            # of the grouped subqueries say (they guess a few hundred rows for a year).
            cursor.execute("SET LOCAL enable_nestloop = off")
        _execute(
            cursor,
            f"CREATE TEMPORARY TABLE {FACTS} ON COMMIT DROP AS {_facts()}",  # noqa: S608 (constants only)
            _params(tenant, lo, hi),
        )
        if long_range:
            cursor.execute("SET LOCAL enable_nestloop = on")
        cursor.execute(f"ANALYZE {FACTS}")


def facts_drop() -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS pg_temp.{FACTS}")


def daily_counts(tenant) -> list[tuple]:
    """`(program_id, day, channel, region, segment, measure, n)` summed over the facts."""
    sql = f"""
    WITH summed AS (
        SELECT program_id, day, channel, pid, measure, sum(n) AS n
        FROM {FACTS} WHERE measure <> 'successes'
        GROUP BY program_id, day, channel, pid, measure
    )
    SELECT s.program_id, s.day, s.channel, {_region("p")}, {_segment("p")}, s.measure,
        sum(s.n)
    FROM summed s
    LEFT JOIN {_t(Participant)} p ON p.tenant_id = %(tenant)s AND p.id = s.pid
    GROUP BY 1, 2, 3, 4, 5, 6"""  # noqa: S608 (constants only; values are bound parameters)
    with connection.cursor() as cursor:
        _execute(cursor, sql, {"tenant": tenant.pk})
        return cursor.fetchall()


def referrer_daily_insert(tenant) -> int:
    """Write the per-referrer rows of the facts in the database; returns rows written."""
    measures = ("shares", "clicks", "referrals", "successes")
    sums = ", ".join(
        f"sum(n) FILTER (WHERE measure = {_lit('signups' if m == 'referrals' else m)}) AS {m}"
        for m in measures
    )
    sql = f"""
    WITH summed AS (
        SELECT program_id, day, referrer, channel, {sums}
        FROM {FACTS} WHERE referrer IS NOT NULL
        GROUP BY program_id, day, referrer, channel
    )
    INSERT INTO {_t(ReferrerDaily)} (tenant_id, program_id, day, participant_id, channel,
        region, segment, shares, clicks, referrals, successes)
    SELECT %(tenant)s, s.program_id, s.day, s.referrer, s.channel,
        {_region("p")}, {_segment("p")},
        COALESCE(s.shares, 0), COALESCE(s.clicks, 0), COALESCE(s.referrals, 0),
        COALESCE(s.successes, 0)
    FROM summed s
    LEFT JOIN {_t(Participant)} p ON p.tenant_id = %(tenant)s AND p.id = s.referrer"""  # noqa: S608 (constants only; values are bound parameters)
    with connection.cursor() as cursor:
        _execute(cursor, sql, {"tenant": tenant.pk})
        return cursor.rowcount


REWARD_FIELDS = (
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
    "program_version_id",
    "side",
    "reason",
    "created_at",
    "referral__created_at",
    "key_program_id",
    "key_channel",
    "key_region",
    "key_segment",
)


def reward_rows(tenant, lo: datetime, hi: datetime) -> list[dict]:
    """The rewards fulfilled, or reversed after fulfilment, in `[lo, hi)`, with the parts of
    their rollup key: the referral's for a referral's reward, else the reward's program and
    its holder's region and segment."""
    sql = f"""
    SELECT w.id, w.program_id, w.referral_id, w.participant_id, w.kind, w.amount_minor,
        w.points, w.details, w.status, w.fulfilled_at, w.reversed_at,
        w.reversed_amount_minor, w.program_version_id, w.side, w.reason, w.created_at,
        d.created_at,
        CASE WHEN w.referral_id IS NOT NULL THEN d.program_id ELSE w.program_id END,
        CASE WHEN w.referral_id IS NOT NULL THEN d.channel ELSE '' END,
        CASE WHEN w.referral_id IS NOT NULL THEN d.region ELSE COALESCE({_region("p")}, '') END,
        CASE WHEN w.referral_id IS NOT NULL THEN d.segment
             ELSE COALESCE({_segment("p")}, '') END
    FROM {_t(Reward)} w
    LEFT JOIN ({_referral_dims()}) d ON d.id = w.referral_id
    LEFT JOIN {_t(Participant)} p ON p.tenant_id = w.tenant_id AND p.id = w.participant_id
    WHERE w.tenant_id = %(tenant)s AND (
        (w.fulfilled_at >= %(lo)s AND w.fulfilled_at < %(hi)s)
        OR (w.status = {_lit(RewardStatus.REVERSED)} AND w.reversed_at >= %(lo)s
            AND w.reversed_at < %(hi)s AND w.fulfilled_at IS NOT NULL))"""  # noqa: S608 (constants only; values are bound parameters)
    with connection.cursor() as cursor:
        _execute(cursor, sql, _params(tenant, lo, hi))
        rows = cursor.fetchall()
    out = []
    for row in rows:
        r = dict(zip(REWARD_FIELDS, row, strict=True))
        if isinstance(r["details"], str):  # Django leaves jsonb undecoded on a raw cursor
            r["details"] = json.loads(r["details"])
        out.append(r)
    return out


def rollups_analyze() -> None:
    """Fresh planner statistics for the rollup tables after a rebuild rewrote every row (the
    dashboards' queries are planned on them; autovacuum would catch up only later)."""
    tables = ", ".join(
        _t(model) for model in (DailyRollup, ReferrerDaily, CustomerFact, CustomerDaily)
    )
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {tables}")


def _hours(days: int) -> str:
    """An exact span: `timedelta(days=n)` is n × 24 hours, whatever the session's zone."""
    return f"interval '{days * 24} hours'"


def customer_facts_insert(tenant, participant_ids: list[int] | None) -> int:
    """Write the CustomerFact of these participants (every one with a sign-up when None),
    as `rollups.customer_fact_values` computes them; returns rows written. The caller has
    deleted their previous facts."""
    only = "" if participant_ids is None else "AND e.participant_id = ANY(%(ids)s)"
    only_referees = "" if participant_ids is None else "AND referee_id = ANY(%(ids)s)"
    sql = f"""
    WITH ev AS (
        SELECT e.id, e.participant_id AS pid, e.type, e.occurred_at AS at,
            COALESCE(e.amount_minor, 0) AS amt, e.order_id,
            e.type = {_lit(EventType.PURCHASE)}
                AND COALESCE(e.payload -> 'properties' ->> 'billing_period', '') = 'monthly'
                AS monthly
        FROM {_t(Event)} e
        WHERE e.tenant_id = %(tenant)s AND e.participant_id IS NOT NULL
            AND e.type <> {_lit(EventType.SHARE)} {only}
    ),
    su AS (
        SELECT pid, min(at) AS signup_at FROM ev
        WHERE type = {_lit(EventType.SIGNUP)} GROUP BY pid
    ),
    fp AS (
        SELECT DISTINCT ON (pid) pid, at, amt, order_id, monthly
        FROM ev WHERE type = {_lit(EventType.PURCHASE)}
        ORDER BY pid, at, order_id, id
    ),
    agg AS (
        SELECT su.pid, su.signup_at,
            COALESCE(bool_or(ev.type IN ({_lit(EventType.ACTIVITY)}, {_lit(EventType.PURCHASE)})
                AND ev.at >= su.signup_at + {_hours(60)}
                AND ev.at <= su.signup_at + {_hours(90)}), false) AS retained_90d,
            COALESCE(bool_or(ev.type IN ({_lit(EventType.ACTIVITY)}, {_lit(EventType.PURCHASE)})
                AND ev.at >= su.signup_at + {_hours(20)}
                AND ev.at <= su.signup_at + {_hours(30)}), false) AS retained_30d,
            COALESCE(sum(ev.amt) FILTER (WHERE ev.type = {_lit(EventType.PURCHASE)}
                AND ev.at >= su.signup_at AND ev.at < su.signup_at + {_hours(365)}), 0)
            - COALESCE(sum(ev.amt) FILTER (WHERE ev.type = {_lit(EventType.REFUND)}
                AND ev.at >= su.signup_at AND ev.at < su.signup_at + {_hours(365)}), 0) AS ltv,
            count(*) FILTER (WHERE ev.type = {_lit(EventType.PURCHASE)}
                AND ev.at <= fp.at + {_hours(60)}) >= 2 AS repurchased,
            COALESCE(sum(ev.amt) FILTER (WHERE ev.type = {_lit(EventType.REFUND)}
                AND fp.order_id <> '' AND ev.order_id = fp.order_id), 0) AS refunded
        FROM su
        JOIN ev ON ev.pid = su.pid
        LEFT JOIN fp ON fp.pid = su.pid
        GROUP BY su.pid, su.signup_at
    ),
    chosen AS (
        SELECT DISTINCT ON (referee_id) referee_id, id, program_id, referrer_id, status
        FROM {_t(Referral)}
        WHERE tenant_id = %(tenant)s AND status <> {_REJECTED} {only_referees}
        ORDER BY referee_id, created_at, id
    )
    INSERT INTO {_t(CustomerFact)} (tenant_id, participant_id, signup_day, region, segment,
        referral_id, program_id, referrer_id, referral_status, excluded, retained_90d,
        retained_30d, first_purchase_day, first_purchase_revenue_minor, repurchased_60d,
        ltv_365d_minor, currency)
    SELECT %(tenant)s, a.pid, {_day("a.signup_at")}, {_region("p")}, {_segment("p")},
        c.id, c.program_id, c.referrer_id, COALESCE(c.status, ''),
        c.id IS NULL AND EXISTS (SELECT 1 FROM {_t(Referral)} x
                                 WHERE x.tenant_id = %(tenant)s AND x.referee_id = a.pid),
        a.retained_90d, a.retained_30d,
        CASE WHEN fp.pid IS NOT NULL THEN {_day("fp.at")} END,
        CASE WHEN fp.pid IS NULL THEN 0
             ELSE greatest(fp.amt - a.refunded, 0) * CASE WHEN fp.monthly THEN 12 ELSE 1 END
        END,
        fp.pid IS NOT NULL AND a.repurchased,
        a.ltv, %(currency)s
    FROM agg a
    JOIN {_t(Participant)} p ON p.tenant_id = %(tenant)s AND p.id = a.pid
        AND p.merged_into_id IS NULL
    LEFT JOIN fp ON fp.pid = a.pid
    LEFT JOIN chosen c ON c.referee_id = a.pid"""  # noqa: S608 (constants only; values are bound parameters)
    params = {
        "tenant": tenant.pk,
        "tz": tenant.calendar.timezone,
        "ids": list(participant_ids or ()),
        "currency": tenant.currency,
    }
    with connection.cursor() as cursor:
        _execute(cursor, sql, params)
        return cursor.rowcount
