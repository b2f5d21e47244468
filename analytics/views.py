"""Staff pages under /app/analytics/: the program overview and the other dashboards, goals,
experiments and exports. Every role reads (analysts included); goals, targets and promoting
a winner need a program editor. Filters live in the URL so a view can be shared."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.http import Http404, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from referral_platform.core import calendar, clock
from referral_platform.core.errors import DomainError
from referral_platform.core.money import format_minor, to_major
from referral_platform.tenancy.permissions import EDIT_PROGRAMS, READ, has_role, tenant_required
from tracking.selectors import channel_label

from . import advocates, exports, selectors, services
from .experiments import experiment_results
from .forms import GoalForm, TargetsForm
from .kpis import DEFINITIONS, funnel_steps, kpis_compute
from .models import ExportJob, ExportStatus, ProgramTargets
from .referrer_measures import MATURITY, referrer_measures

# The KPI cards of the overview, in order.
OVERVIEW_KPIS = (
    "referral_share",
    "conversion_rate",
    "cost_per_referred_customer",
    "referrals_per_referrer",
    "participation_rate",
    "reward_cost",
    "fulfilment_rate",
    "fraud_rate",
    "referred_retention_90d",
    "baseline_retention_90d",
    "referred_repurchase_60d",
    "baseline_repurchase_60d",
    "referral_revenue_share",
    "referred_ltv_365d",
    "baseline_ltv_365d",
    "ltv_to_cac",
)
KPI_LABELS = {
    "referral_share": gettext_lazy("Referral share of new customers"),
    "conversion_rate": gettext_lazy("Conversion rate"),
    "cost_per_referred_customer": gettext_lazy("Cost per referred customer"),
    "referrals_per_referrer": gettext_lazy("Referrals per referrer"),
    "participation_rate": gettext_lazy("Participation rate"),
    "reward_cost": gettext_lazy("Reward cost"),
    "fulfilment_rate": gettext_lazy("Fulfilment rate"),
    "fraud_rate": gettext_lazy("Fraud rate"),
    "referred_retention_90d": gettext_lazy("Referred 90-day retention"),
    "baseline_retention_90d": gettext_lazy("Non-referred 90-day retention"),
    "referred_repurchase_60d": gettext_lazy("Referred 60-day repurchase"),
    "baseline_repurchase_60d": gettext_lazy("Non-referred 60-day repurchase"),
    "referral_revenue_share": gettext_lazy("Referral share of new revenue"),
    "referred_ltv_365d": gettext_lazy("Referred LTV (365 days)"),
    "baseline_ltv_365d": gettext_lazy("Non-referred LTV (365 days)"),
    "ltv_to_cac": gettext_lazy("LTV / CAC"),
}
# A rise in these is bad news: their trend arrows are coloured the other way round.
LOWER_IS_BETTER = {"cost_per_referred_customer", "reward_cost", "fraud_rate"}
STEP_LABELS = {
    "shares": gettext_lazy("Shares"),
    "clicks": gettext_lazy("Clicks"),
    "signups": gettext_lazy("Sign-ups"),
    "qualified": gettext_lazy("Qualified"),
    "converted": gettext_lazy("Converted"),
    "retained": gettext_lazy("Retained"),
    "rewarded": gettext_lazy("Rewarded"),
}


# One of a step's units, for "1.13 clicks per share".
STEP_UNITS = {
    "shares": gettext_lazy("share"),
    "clicks": gettext_lazy("click"),
    "signups": gettext_lazy("sign-up"),
    "qualified": gettext_lazy("qualified referral"),
    "converted": gettext_lazy("converted referral"),
    "retained": gettext_lazy("retained referral"),
}


class FilterForm(forms.Form):
    program = forms.SlugField(required=False)
    from_ = forms.DateField(required=False)
    to = forms.DateField(required=False)
    channel = forms.CharField(required=False, max_length=20)
    region = forms.CharField(required=False, max_length=60)
    segment = forms.CharField(required=False, max_length=60)

    def __init__(self, data, *args, **kwargs):
        data = data.copy()
        if "from" in data:
            data["from_"] = data["from"]
        super().__init__(data, *args, **kwargs)


def _filters(request) -> selectors.Filters:
    """The URL's filters; the last 30 tenant-local days and the first program by default.
    A bad value falls back to its default rather than failing the page."""
    form = FilterForm(request.GET)
    form.is_valid()
    data = form.cleaned_data
    today = calendar.local_date(clock.now(), request.tenant.calendar)
    end = data.get("to") or today
    start = data.get("from_") or end - timedelta(days=29)
    if start > end:
        start, end = end, start
    slug = data.get("program")
    program = None
    if slug:
        program = selectors.program_list(tenant=request.tenant).filter(slug=slug).first()
        if program is None:
            raise Http404
    elif "program" not in request.GET:
        program = selectors.program_list(tenant=request.tenant).first()
    return selectors.Filters(
        start=start,
        end=end,
        program=program,
        channel=data.get("channel") or "",
        region=data.get("region") or "",
        segment=data.get("segment") or "",
    )


def _base_context(request, filters: selectors.Filters, tab: str) -> dict:
    dims = selectors.dimension_values(tenant=request.tenant, filters=filters)
    return {
        "filters": filters,
        "query": filters.as_query(),
        "querystring": urlencode(filters.as_query()),
        "programs": selectors.program_list(tenant=request.tenant),
        "dims": dims,
        "channels": [(v, channel_label(v)) for v in dims["channel"]],
        "tab": tab,
        "currency": filters.program.currency if filters.program else request.tenant.currency,
        "can_edit": has_role(request, EDIT_PROGRAMS),
    }


# Rates whose numerator is not part of their denominator (SEMANTICS §7): a conversion
# dated in range may come from a click before it, or from a code with no click at all. They
# read as a count per unit of the denominator, never as a percentage.
PER_UNIT = {
    "conversion_rate": gettext_lazy("%(n)s per click"),
    # Referrals created ÷ `signup` events: a referral can be made without a sign-up event.
    "referral_share": gettext_lazy("%(n)s per new customer"),
}
RATIOS = {"referrals_per_referrer", "ltv_to_cac"}


def _format(name: str, value, currency: str, not_yet=()) -> str:
    if value is None:
        return str(_("not yet")) if name in not_yet else "—"
    if isinstance(value, dict) and "amount_minor" in value:
        return format_minor(value["amount_minor"], value["currency"])
    if name in PER_UNIT:
        return PER_UNIT[name] % {"n": f"{value:.2f}"}
    if name in RATIOS:
        return f"{value:.2f}"
    return f"{value * 100:.1f}%"


def _cards(kpis: dict, previous: dict, goals: dict, currency: str) -> list[dict]:
    cards = []
    for name in OVERVIEW_KPIS:
        value, before = kpis[name], previous[name]
        number = selectors.goal_value_as_int(name, value)
        prior = selectors.goal_value_as_int(name, before)
        goal = goals.get(name)
        cards.append(
            {
                "name": name,
                "label": KPI_LABELS[name],
                "definition": DEFINITIONS[name],
                "display": _format(name, value, currency, kpis["not_yet"]),
                "not_yet": name in kpis["not_yet"],
                "trend": None if number is None or prior is None else number - prior,
                "lower_is_better": name in LOWER_IS_BETTER,
                "previous": _format(name, before, currency, previous["not_yet"]),
                "goal": goal,
            }
        )
    return cards


def _step_text(step: dict) -> str:
    """`62.5% of sign-ups`, or `1.13 per click` where the count can exceed its base."""
    if step["base"] is None:
        return ""
    base = str(STEP_LABELS[step["base"]]).lower()
    if step["conversion"] is not None:
        return _("%(p)s%% of %(base)s") % {"p": f"{step['conversion'] * 100:.1f}", "base": base}
    return _("%(n)s per %(unit)s") % {
        "n": f"{step['per_base']:.2f}",
        "unit": STEP_UNITS[step["base"]],
    }


@tenant_required(READ)
def overview(request):
    filters = _filters(request)
    tenant = request.tenant
    inputs = selectors.kpi_inputs(tenant=tenant, filters=filters)
    kpis = kpis_compute(inputs)
    length = (filters.end - filters.start).days + 1
    previous_filters = replace(
        filters, start=filters.start - timedelta(days=length), end=filters.start - timedelta(days=1)
    )
    previous = selectors.kpis_get(tenant=tenant, filters=previous_filters)
    counts = inputs.funnel
    goals = {}
    pacing = holdout = None
    if filters.program is not None:
        for row in selectors.goals_progress(tenant=tenant, program=filters.program):
            goals.setdefault(row["goal"].metric, row)
        pacing = selectors.budget_pacing(tenant=tenant, program=filters.program)
        holdout = selectors.holdout_report(tenant=tenant, program=filters.program, filters=filters)
    context = _base_context(request, filters, "overview")
    currency = context["currency"]
    steps = [
        {
            **s,
            "label": STEP_LABELS[s["step"]],
            "definition": DEFINITIONS[s["step"]],
            "from_base": _step_text(s),
        }
        for s in funnel_steps(counts)
    ]
    series = selectors.timeseries(tenant=tenant, filters=filters)
    return render(
        request,
        "analytics/overview.html",
        {
            **context,
            "cards": _cards(kpis, previous, goals, currency),
            "kpis": kpis,
            "steps": steps,
            "goals": list(goals.values()),
            "pacing": pacing,
            "holdout": holdout,
            "funnel_chart": {
                "type": "steps",
                "data": [
                    {"name": str(s["label"]), "value": s["count"], "note": s["from_base"]}
                    for s in steps
                ],
            },
            "series_chart": {
                "type": "lines",
                "x": series["days"],
                "series": [
                    {"name": str(STEP_LABELS[k]), "data": series["series"][k]}
                    for k in ("clicks", "signups", "converted", "rewarded")
                ],
            },
        },
    )


@tenant_required(READ)
def breakdowns(request):
    filters = _filters(request)
    tenant = request.tenant
    pilots = selectors.pilot_regions(filters.program.spec if filters.program else {})
    tables = {
        by: selectors.breakdown(tenant=tenant, filters=filters, by=by)
        for by in ("channel", "region", "segment")
    }
    for row in tables["channel"]:
        row["label"] = channel_label(row["key"])
    pilot_rows = [
        {
            "region": region,
            "funnel": selectors.funnel_counts(
                tenant=tenant, filters=replace(filters, region=region)
            ).as_dict(),
        }
        for region in pilots
    ]
    channel_chart = {
        "type": "bars",
        "x": [channel_label(row["key"]) for row in tables["channel"]],
        "series": [
            {"name": str(STEP_LABELS[k]), "data": [row[k] for row in tables["channel"]]}
            for k in ("clicks", "signups", "converted")
        ],
    }
    return render(
        request,
        "analytics/breakdowns.html",
        {
            **_base_context(request, filters, "breakdowns"),
            "tables": tables,
            "pilots": pilot_rows,
            "steps": [(k, STEP_LABELS[k]) for k in STEP_LABELS],
            "channel_chart": channel_chart,
        },
    )


MEASURE_LABELS = {
    "customers": gettext_lazy("Customers signed up in range"),
    "retention_30d": gettext_lazy("30-day retention"),
    "retention_90d": gettext_lazy("90-day retention"),
    "repurchase_60d": gettext_lazy("60-day repurchase"),
    "ltv_365d": gettext_lazy("LTV (365 days)"),
}
MEASURE_GROUPS = ("referrers", "non_referrers", "referred", "non_referred")
SATISFACTION_LABELS = {
    "referrers": gettext_lazy("Referrers"),
    "referred": gettext_lazy("Referred customers"),
    "others": gettext_lazy("Everyone else"),
}


def _measure_rows(measures: dict) -> list[dict]:
    """One row per measure, one cell per group, as people read them."""
    rows = []
    for measure, label in MEASURE_LABELS.items():
        not_yet = measure != "customers" and measures["cohort_age_days"] < MATURITY[measure]
        cells = []
        for group in MEASURE_GROUPS:
            value = measures[group][measure]
            if measure == "customers":
                cells.append(str(value))
            elif not_yet:
                cells.append(str(_("not yet")))
            else:
                cells.append(_format(measure, value, measures["currency"]))
        rows.append({"measure": measure, "label": label, "cells": cells})
    return rows


@tenant_required(READ)
def cohorts(request):
    filters = _filters(request)
    curves = selectors.cohort_curves(tenant=request.tenant, filters=filters)
    months = list(curves)
    today = calendar.local_date(clock.now(), request.tenant.calendar)

    def rate(group, num, den, days):
        # A month whose last customers have not reached the window's end is "not yet" (a
        # gap in the chart), not the 0 % it would read today.
        return [
            None
            if not curves[m]["matured"][days] or not getattr(curves[m][group], den)
            else round(getattr(curves[m][group], num) / getattr(curves[m][group], den), 4)
            for m in months
        ]

    chart = {
        "type": "lines",
        "percent": True,
        "x": months,
        "series": [
            {"name": _("Referred 90-day retention"), "data": rate("referred", "retained_90d", "signed_up", 90)},
            {"name": _("Non-referred 90-day retention"), "data": rate("baseline", "retained_90d", "signed_up", 90)},
            {"name": _("Referred 60-day repurchase"), "data": rate("referred", "repurchased_60d", "first_purchasers", 60)},
            {"name": _("Non-referred 60-day repurchase"), "data": rate("baseline", "repurchased_60d", "first_purchasers", 60)},
        ],
    }  # fmt: skip
    heatmap = {
        "type": "heatmap",
        "x": months,
        "y": [_("Referred"), _("Non-referred")],
        "data": [
            [i, j, v]
            for j, group in enumerate(("referred", "baseline"))
            for i, v in enumerate(rate(group, "retained_90d", "signed_up", 90))
            if v is not None
        ],
    }
    measures = referrer_measures(tenant=request.tenant, filters=filters)
    rows = [
        {
            "month": m,
            "referred": curves[m]["referred"],
            "baseline": curves[m]["baseline"],
            "retention_ready": curves[m]["matured"][90],
        }
        for m in months
    ]
    return render(
        request,
        "analytics/cohorts.html",
        {
            **_base_context(request, filters, "cohorts"),
            "chart": chart,
            "heatmap": heatmap,
            "rows": rows,
            "today": today,
            "measure_rows": _measure_rows(measures),
            "satisfaction": [
                (SATISFACTION_LABELS[k], v) for k, v in measures["satisfaction"].items()
            ],
        },
    )


@tenant_required(READ)
def leaderboard(request):
    filters = _filters(request)
    board = selectors.leaderboard(tenant=request.tenant, filters=filters, limit=20)
    prize_boards = _prize_boards(request.tenant, filters)
    return render(
        request,
        "analytics/leaderboard.html",
        {
            **_base_context(request, filters, "leaderboard"),
            "board": board,
            "prize_boards": prize_boards,
        },
    )


def _prize_boards(tenant, filters) -> list[dict]:
    """The prize-bearing standings rewards persisted when it closed each season (newest
    first), with the participants' external ids."""
    from rewards.models import PeriodClose
    from tracking.models import Participant

    closes = PeriodClose.objects.for_tenant(tenant).filter(kind="season")
    if filters.program is not None:
        closes = closes.filter(program=filters.program)
    closes = list(closes.order_by("-period_key")[:8])
    ids = {row.get("participant") for c in closes for row in c.result or []}
    names = dict(
        Participant.objects.for_tenant(tenant).filter(pk__in=ids).values_list("pk", "external_id")
    )
    return [
        {
            "period": c.period_key,
            "rows": [
                {
                    "participant": names.get(row.get("participant"), ""),
                    "reason": row.get("reason", ""),
                }
                for row in c.result or []
            ],
        }
        for c in closes
    ]


@tenant_required(READ)
def fraud(request):
    filters = _filters(request)
    panel = selectors.fraud_panel(tenant=request.tenant, filters=filters)
    kpis = selectors.kpis_get(tenant=request.tenant, filters=filters)
    chart = {
        "type": "bars",
        "x": panel["days"],
        "series": [
            {"name": _("Assessed"), "data": panel["assessed"]},
            {"name": _("Rejected"), "data": panel["rejected"]},
        ],
    }
    return render(
        request,
        "analytics/fraud.html",
        {
            **_base_context(request, filters, "fraud"),
            "chart": chart,
            "fraud_rate": _format("fraud_rate", kpis["fraud_rate"], ""),
            "backlog": kpis["review_backlog"],
            "definitions": DEFINITIONS,
        },
    )


@tenant_required(READ)
def cost(request):
    filters = _filters(request)
    kpis = selectors.kpis_get(tenant=request.tenant, filters=filters)
    series = selectors.timeseries(tenant=request.tenant, filters=filters)
    from rewards.models import RewardKind

    labels = dict(RewardKind.choices)
    currency = filters.program.currency if filters.program else request.tenant.currency

    def major(amount_minor: int) -> float:
        # Charts draw what people read: yuan, not fen (a JSON number, hence float).
        return float(to_major(amount_minor, currency))

    by_kind = {str(labels.get(k, k)): v for k, v in kpis["reward_cost_by_kind"].items()}
    pacing = (
        selectors.budget_pacing(tenant=request.tenant, program=filters.program)
        if filters.program
        else None
    )
    return render(
        request,
        "analytics/cost.html",
        {
            **_base_context(request, filters, "cost"),
            "kpis": kpis,
            "by_kind": by_kind,
            "pacing": pacing,
            "definitions": DEFINITIONS,
            "pie": {
                "type": "pie",
                "data": [
                    {"name": k, "value": major(v["amount_minor"])} for k, v in by_kind.items()
                ],
            },
            "cost_chart": {
                "type": "lines",
                "money": True,
                "x": series["days"],
                "series": [
                    {
                        "name": _("Reward cost"),
                        "data": [major(v) for v in series["series"]["reward_cost_minor"]],
                    }
                ],
            },
        },
    )


@tenant_required(READ)
def coverage(request):
    filters = _filters(request)
    targets = (
        ProgramTargets.objects.for_tenant(request.tenant).filter(program=filters.program).first()
        if filters.program
        else None
    )
    trend = selectors.coverage_trend(
        tenant=request.tenant,
        filters=filters,
        threshold_bp=targets.coverage_alert_basis_points if targets else 8000,
    )
    chart = {
        "type": "bars",
        "stack": True,
        "x": trend["weeks"],
        "series": [{"name": m, "data": v} for m, v in trend["methods"].items()],
    }
    return render(
        request,
        "analytics/coverage.html",
        {**_base_context(request, filters, "coverage"), "trend": trend, "chart": chart},
    )


@tenant_required(READ)
def advocates_page(request):
    filters = _filters(request)
    now = clock.now()
    ranking = advocates.advocates_rank(tenant=request.tenant, as_of=now, limit=50)
    backtest = advocates.advocates_backtest(tenant=request.tenant, cutoff=now - timedelta(days=90))
    return render(
        request,
        "analytics/advocates.html",
        {**_base_context(request, filters, "advocates"), "ranking": ranking, "backtest": backtest},
    )


@tenant_required(READ)
def experiments_page(request):
    filters = _filters(request)
    results = []
    if filters.program is not None:
        for experiment in filters.program.spec.get("experiments") or []:
            results.append(
                experiment_results(
                    tenant=request.tenant,
                    program=filters.program,
                    experiment_key=experiment["key"],
                    start=filters.start,
                    end=filters.end,
                )
            )
    return render(
        request,
        "analytics/experiments.html",
        {**_base_context(request, filters, "experiments"), "results": results},
    )


@require_POST
@tenant_required(EDIT_PROGRAMS)
def experiment_promote(request):
    filters = _filters(request)
    if filters.program is None:
        raise Http404
    try:
        version = services.experiment_promote(
            program=filters.program,
            experiment_key=request.POST.get("experiment", ""),
            variant_key=request.POST.get("variant", ""),
            actor=request.user,
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request, _("Promoted; the program is now at version %(n)s.") % {"n": version.number}
        )
    return redirect(_url("analytics:experiments", filters))


@tenant_required(READ)
def goals(request):
    filters = _filters(request)
    currency = filters.program.currency if filters.program else request.tenant.currency
    goal_form = GoalForm(currency=currency)
    targets_form = None
    if request.method == "POST":
        if not has_role(request, EDIT_PROGRAMS):
            from django.core.exceptions import PermissionDenied

            raise PermissionDenied
        if filters.program is None:
            raise Http404
        if request.POST.get("form") == "targets":
            targets_form = TargetsForm(request.POST, currency=currency)
            if targets_form.is_valid():
                services.targets_set(
                    tenant=request.tenant,
                    program=filters.program,
                    actor=request.user,
                    **targets_form.stored_values(),
                )
                messages.success(request, _("Targets saved."))
                return redirect(_url("analytics:goals", filters))
        else:
            goal_form = GoalForm(request.POST, currency=currency)
            if goal_form.is_valid():
                try:
                    services.goal_create(
                        tenant=request.tenant,
                        program=filters.program,
                        actor=request.user,
                        **goal_form.cleaned_data,
                    )
                except DomainError as exc:
                    messages.error(request, exc.message)
                else:
                    messages.success(request, _("Goal saved."))
                    return redirect(_url("analytics:goals", filters))
    progress = (
        selectors.goals_progress(tenant=request.tenant, program=filters.program)
        if filters.program
        else []
    )
    if targets_form is None:
        targets = (
            ProgramTargets.objects.for_tenant(request.tenant)
            .filter(program=filters.program)
            .first()
            if filters.program
            else None
        )
        targets_form = TargetsForm(initial=TargetsForm.initial_from(targets), currency=currency)
    return render(
        request,
        "analytics/goals.html",
        {
            **_base_context(request, filters, "goals"),
            "progress": progress,
            "goal_form": goal_form,
            "targets_form": targets_form,
        },
        status=422 if request.method == "POST" else 200,
    )


@require_POST
@tenant_required(EDIT_PROGRAMS)
def goal_delete(request, goal_id: int):
    filters = _filters(request)
    try:
        services.goal_delete(tenant=request.tenant, goal_id=goal_id, actor=request.user)
    except DomainError as exc:
        raise Http404 from exc
    return redirect(_url("analytics:goals", filters))


def _url(name: str, filters: selectors.Filters, **kwargs) -> str:
    return reverse(name, kwargs=kwargs or None) + "?" + urlencode(filters.as_query())


# --- exports --------------------------------------------------------------------------------


@tenant_required(READ)
def export(request, kind: str):
    """Small exports stream at once; large ones become a job with a progress page."""
    if kind not in services.EXPORT_KINDS:
        raise Http404
    filters = _filters(request)
    params = filters.as_query()
    header, rows, to_cells = exports.export_source(request.tenant, kind, params)
    if exports.export_count(rows) > exports.SYNC_LIMIT:
        job = services.export_request(
            tenant=request.tenant, kind=kind, params=params, actor=request.user
        )
        return redirect("analytics:export_job", job_id=job.pk)
    response = StreamingHttpResponse(
        exports.csv_lines(header, rows, to_cells), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = (
        f'attachment; filename="{kind}-{filters.start.isoformat()}-{filters.end.isoformat()}.csv"'
    )
    return response


def _job(request, job_id: int) -> ExportJob:
    job = ExportJob.objects.for_tenant(request.tenant).filter(pk=job_id).first()
    if job is None:
        raise Http404
    return job


def _job_progress(job) -> dict:
    """What the export page shows of its job, first rendered and then polled."""
    done = job.status == ExportStatus.DONE
    return {
        "status": job.status,
        "done": job.done,
        "total": job.total,
        "percent": 100 if done else (job.done * 100 // job.total if job.total else 0),
        "download": reverse("analytics:export_download", args=[job.pk]) if done else None,
    }


@tenant_required(READ)
def export_job(request, job_id: int):
    job = _job(request, job_id)
    return render(
        request,
        "analytics/export_job.html",
        {"job": job, "progress": _job_progress(job), "tab": "exports"},
    )


@tenant_required(READ)
def export_job_status(request, job_id: int):
    return JsonResponse(_job_progress(_job(request, job_id)))


@tenant_required(READ)
def export_download(request, job_id: int):
    job = _job(request, job_id)
    if job.status != ExportStatus.DONE:
        raise Http404
    response = HttpResponse(job.content, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{job.kind}-{job.pk}.csv"'
    return response
