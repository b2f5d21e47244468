"""CSV exports: referrals, rewards, payouts, the funnel per day and the KPIs. Small ones
stream straight to the browser; large ones run as a job whose progress the page polls."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import date

from django.db.models import F

from referral_platform.core import calendar, clock
from referral_platform.core.spreadsheet import major_cell, safe_row
from rewards.models import Payout, Reward
from tracking.models import Referral

from . import selectors
from .kpis import FUNNEL_STEPS
from .models import ExportJob, ExportStatus

# Above this many rows an export becomes a background job.
SYNC_LIMIT = 5000
_PROGRESS_EVERY = 500


def filters_from_params(tenant, params: dict) -> selectors.Filters:
    program = None
    if params.get("program"):
        program = selectors.program_get(tenant=tenant, slug=params["program"])
    return selectors.Filters(
        start=date.fromisoformat(params["from"]),
        end=date.fromisoformat(params["to"]),
        program=program,
        channel=params.get("channel", ""),
        region=params.get("region", ""),
        segment=params.get("segment", ""),
    )


def _iso(value) -> str:
    return value.isoformat() if value else ""


def _referrals(tenant, f: selectors.Filters):
    lo, hi = calendar.date_range_bounds(f.start, f.end, tenant.calendar)
    qs = Referral.objects.for_tenant(tenant).filter(created_at__gte=lo, created_at__lt=hi)
    if f.program is not None:
        qs = qs.filter(program=f.program)
    qs = qs.order_by("created_at", "pk").values_list(
        "pk", "program__slug", "referrer__external_id", "referee__external_id", "source",
        "status", "variant", "created_at", "status_changed_at", "reversed_at",
    )  # fmt: skip
    header = ["id", "program", "referrer", "referee", "source", "status", "variant",
              "created_at", "status_changed_at", "reversed_at"]  # fmt: skip
    return header, qs, lambda r: [*r[:7], _iso(r[7]), _iso(r[8]), _iso(r[9])]


def _rewards(tenant, f: selectors.Filters):
    lo, hi = calendar.date_range_bounds(f.start, f.end, tenant.calendar)
    qs = Reward.objects.for_tenant(tenant).filter(created_at__gte=lo, created_at__lt=hi)
    if f.program is not None:
        qs = qs.filter(program=f.program)
    qs = qs.order_by("created_at", "pk").values_list(
        "pk", "program__slug", "participant__external_id", "referral_id", "side", "scope",
        "reason", "kind", "amount_minor", "currency", "points", "status", "blocked_reason",
        "due_at", "fulfilled_at", "reversed_at", "reversed_amount_minor", "program__currency",
    )  # fmt: skip
    header = ["id", "program", "participant", "referral", "side", "scope", "reason", "kind",
              "amount", "currency", "points", "status", "blocked_reason", "due_at",
              "fulfilled_at", "reversed_at", "reversed_amount"]  # fmt: skip

    def cells(r):
        # A coupon or points row may carry no currency of its own: its program's applies.
        currency = r[9] or r[17]
        return [*r[:8], major_cell(r[8], currency), currency, *r[10:13],
                _iso(r[13]), _iso(r[14]), _iso(r[15]), major_cell(r[16], currency)]  # fmt: skip

    return header, qs, cells


def _payouts(tenant, f: selectors.Filters):
    lo, hi = calendar.date_range_bounds(f.start, f.end, tenant.calendar)
    qs = Payout.objects.for_tenant(tenant).filter(created_at__gte=lo, created_at__lt=hi)
    if f.program is not None:
        qs = qs.filter(reward__program=f.program)
    qs = qs.order_by("created_at", "pk").values_list(
        "pk", "reward_id", F("reward__participant__external_id"), "amount_minor", "currency",
        "status", "external_ref", "created_at", "settled_at",
    )  # fmt: skip
    header = ["id", "reward", "participant", "amount", "currency", "status",
              "external_ref", "created_at", "settled_at"]  # fmt: skip
    return header, qs, lambda r: [*r[:3], major_cell(r[3], r[4]), *r[4:7], _iso(r[7]), _iso(r[8])]


def _currency(tenant, f: selectors.Filters) -> str:
    return f.program.currency if f.program is not None else tenant.currency


def _funnel(tenant, f: selectors.Filters):
    series = selectors.timeseries(tenant=tenant, filters=f)
    currency = _currency(tenant, f)
    rows = [
        [
            day,
            *(series["series"][s][i] for s in FUNNEL_STEPS),
            major_cell(series["series"]["reward_cost_minor"][i], currency),
            currency,
        ]
        for i, day in enumerate(series["days"])
    ]
    return ["day", *FUNNEL_STEPS, "reward_cost", "currency"], rows, lambda r: r


def _kpis(tenant, f: selectors.Filters):
    kpis = selectors.kpis_get(tenant=tenant, filters=f)
    rows = []

    def money_row(name, value):
        rows.append([name, major_cell(value["amount_minor"], value["currency"]), value["currency"]])

    for name, value in kpis.items():
        if isinstance(value, dict) and "amount_minor" in value:
            money_row(name, value)
        elif name == "reward_cost_by_kind":
            for kind, money in value.items():
                money_row(f"reward_cost:{kind}", money)
        elif name == "coupon_cost_basis":
            for basis, figures in value.items():
                rows.append([f"coupons_{basis}", figures["count"], ""])
                money_row(f"coupons_{basis}_value", figures["value"])
        elif name == "review_backlog":
            rows.append(["review_backlog", value["in_review"], ""])
            rows.append(["review_past_sla", value["past_sla"], ""])
        elif name == "not_yet":
            continue
        elif value is None and name in kpis["not_yet"]:
            rows.append([name, "not yet", ""])
        else:
            rows.append([name, "" if value is None else str(value), ""])
    return ["kpi", "value", "currency"], rows, lambda r: r


BUILDERS = {
    "referrals": _referrals,
    "rewards": _rewards,
    "payouts": _payouts,
    "funnel": _funnel,
    "kpis": _kpis,
}


def export_source(tenant, kind: str, params: dict):
    """`(header, rows, to_cells)` for one export; `rows` is a queryset or a list."""
    return BUILDERS[kind](tenant, filters_from_params(tenant, params))


def export_count(rows) -> int:
    return rows.count() if hasattr(rows, "count") and not isinstance(rows, list) else len(rows)


def csv_lines(header, rows, to_cells) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(safe_row(header))
    yield buffer.getvalue()
    iterator = rows.iterator(chunk_size=2000) if hasattr(rows, "iterator") else rows
    for row in iterator:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(safe_row(to_cells(row)))
        yield buffer.getvalue()


def export_run(*, tenant_id: int, job_id: int) -> str:
    """Build one job's CSV. Claimed by a conditional UPDATE, so a redelivered task does
    not build it twice; a crash leaves it `running` for the page to show as stuck."""
    from referral_platform.tenancy.models import Tenant

    claimed = ExportJob.unscoped.filter(
        pk=job_id, tenant_id=tenant_id, status=ExportStatus.QUEUED
    ).update(status=ExportStatus.RUNNING)
    if not claimed:
        return "already taken"
    job = ExportJob.unscoped.get(pk=job_id)
    tenant = Tenant.objects.get(pk=tenant_id)
    try:
        header, rows, to_cells = export_source(tenant, job.kind, job.params)
        total = export_count(rows)
        ExportJob.unscoped.filter(pk=job_id).update(total=total)
        out = io.StringIO()
        for done, line in enumerate(csv_lines(header, rows, to_cells)):
            out.write(line)
            if done and done % _PROGRESS_EVERY == 0:
                ExportJob.unscoped.filter(pk=job_id).update(done=done)
        ExportJob.unscoped.filter(pk=job_id).update(
            status=ExportStatus.DONE, done=total, content=out.getvalue(), finished_at=clock.now()
        )
        return "done"
    except (ValueError, KeyError, LookupError) as exc:
        ExportJob.unscoped.filter(pk=job_id).update(
            status=ExportStatus.FAILED, error=str(exc)[:300], finished_at=clock.now()
        )
        return "failed"
