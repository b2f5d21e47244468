"""Staff pages under /app/review/: the review queue, its detail page, decisions, disputes,
policy and backtesting, blocklists and leaked codes. Thin: parse, one service, render."""

from __future__ import annotations

import csv

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.paginator import Paginator
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from referral_platform.core import clock
from referral_platform.core.audit import AUDIT_CSV_HEADER, audit_csv_row
from referral_platform.core.errors import DomainError
from referral_platform.tenancy.models import Role
from referral_platform.tenancy.permissions import REVIEW, has_role, tenant_required

from . import readside, selectors, services
from .forms import BlocklistForm, DecisionForm, DisputeAnswerForm, QueueFilterForm
from .models import BlockedIdentifier, CodeFlag, Dispute
from .signals import SIGNAL_CODES, signal_label

# Analysts read the queue and its evidence; marketers do not see it at all.
READ_REVIEW = {Role.OWNER, Role.OPS, Role.ANALYST}


def reviewers(tenant):
    return (
        get_user_model()
        .objects.filter(memberships__tenant=tenant, memberships__role__in=REVIEW)
        .order_by("email")
    )


# Names the services use for fields that no form on these pages declares.
FIELD_LABELS = {
    "review_threshold": gettext_lazy("Review from score"),
    "reject_threshold": gettext_lazy("Reject from score"),
    "action": gettext_lazy("Action"),
    "decision": gettext_lazy("Decision"),
}


def _field_label(name: str, form=None) -> str:
    if form is not None and name in form.fields:
        return str(form[name].label)
    group, _dot, code = name.partition(".")
    if group in ("weights", "forces") and code:
        return signal_label(code)
    return str(FIELD_LABELS.get(name, name))


def error_message(request, exc: DomainError, form=None) -> None:
    """The domain error as one message, its fields under their labels on this page."""
    details = [
        _("%(field)s: %(errors)s")
        % {"field": _field_label(name, form), "errors": " ".join(map(str, errors))}
        for name, errors in exc.fields.items()
    ]
    messages.error(request, " ".join([exc.message, *details]).strip())


@tenant_required(READ_REVIEW)
def queue(request):
    from programs.selectors import program_list

    form = QueueFilterForm(request.GET or {"status": "open"})
    filters = form.cleaned_data if form.is_valid() else {"status": "open"}
    cases = selectors.review_queue(
        request.tenant,
        program=filters.get("program") or "",
        signal=filters.get("signal") or "",
        min_score=filters.get("min_score"),
        older_than_hours=filters.get("older_than_hours"),
        status=filters.get("status", "open") if "status" in request.GET else "open",
        assignee=request.user if filters.get("mine") else None,
    )
    page = Paginator(cases, 50).get_page(request.GET.get("page"))
    page.object_list = list(page.object_list)
    selectors.cases_reward_money(request.tenant, page.object_list)
    return render(
        request,
        "fraud/queue.html",
        {
            "page": page,
            "form": form,
            "now": clock.now(),
            "programs": program_list(request.tenant),
            "signal_codes": SIGNAL_CODES,
            "can_decide": has_role(request, REVIEW),
            "reviewers": reviewers(request.tenant),
            "sla_hours": request.tenant.review_sla_hours,
        },
    )


@tenant_required(READ_REVIEW)
def detail(request, referral_id: int):
    case = selectors.review_case_get(request.tenant, referral_id)
    referral = case.referral
    return render(
        request,
        "fraud/detail.html",
        {
            "case": case,
            "referral": referral,
            "now": clock.now(),
            "assessments": selectors.referral_assessments(referral),
            "referrer_referrals": selectors.participant_other_referrals(
                referral, referral.referrer
            ),
            "referee_referrals": selectors.participant_other_referrals(referral, referral.referee),
            "shared": selectors.shared_identifiers(referral),
            "rewards": readside.referral_rewards(referral=referral),
            "history": selectors.decision_log(request.tenant, referral_id=referral.pk)[:50],
            "form": DecisionForm(),
            "can_decide": has_role(request, REVIEW),
            "reviewers": reviewers(request.tenant),
        },
    )


@require_POST
@tenant_required(REVIEW)
def assign(request, referral_id: int):
    case = selectors.review_case_get(request.tenant, referral_id)
    assignee = reviewers(request.tenant).filter(pk=request.POST.get("assignee") or 0).first()
    services.review_assign(
        tenant=request.tenant,
        referral_ids=[case.referral_id],
        assignee=assignee,
        actor=request.user,
    )
    messages.success(request, _("Assignment saved."))
    return redirect("fraud:detail", referral_id)


@tenant_required(READ_REVIEW)
def decisions(request):
    page = Paginator(selectors.decision_log(request.tenant), 50).get_page(request.GET.get("page"))
    return render(request, "fraud/decisions.html", {"page": page})


class _Echo:
    def write(self, value):
        return value


@tenant_required(READ_REVIEW)
def decisions_export(request):
    writer = csv.writer(_Echo())
    entries = selectors.decision_log(request.tenant)

    currency = request.tenant.currency

    def rows():
        yield writer.writerow(AUDIT_CSV_HEADER)
        for e in entries.iterator(chunk_size=500):
            yield writer.writerow(audit_csv_row(e, currency=currency))

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="review-decisions-{request.tenant.slug}.csv"'
    )
    return response


# --- disputes ------------------------------------------------------------------------------


@tenant_required(READ_REVIEW)
def disputes(request):
    status = request.GET.get("status", "open")
    page = Paginator(
        selectors.dispute_queue(
            request.tenant, status=status if status in ("open", "answered") else ""
        ),
        50,
    ).get_page(request.GET.get("page"))
    return render(
        request, "fraud/disputes.html", {"page": page, "status": status, "now": clock.now()}
    )


@tenant_required(READ_REVIEW)
def dispute_detail(request, pk: int):
    dispute = (
        Dispute.objects.for_tenant(request.tenant)
        .select_related("participant", "referral")
        .filter(pk=pk)
        .first()
    )
    if dispute is None:
        raise Http404
    form = DisputeAnswerForm(request.POST or None)
    if request.method == "POST":
        if not has_role(request, REVIEW):
            from django.core.exceptions import PermissionDenied

            raise PermissionDenied
        if form.is_valid():
            try:
                services.dispute_answer(dispute=dispute, actor=request.user, **form.cleaned_data)
            except DomainError as exc:
                error_message(request, exc, form)
            else:
                messages.success(request, _("Answer sent to the customer."))
                return redirect("fraud:disputes")
    return render(
        request,
        "fraud/dispute_detail.html",
        {
            "dispute": dispute,
            "form": form,
            "can_decide": has_role(request, REVIEW),
            "now": clock.now(),
        },
    )


# --- blocklist ------------------------------------------------------------------------------


@tenant_required(READ_REVIEW)
def blocklist(request):
    form = BlocklistForm(request.POST or None)
    if request.method == "POST":
        if not has_role(request, REVIEW):
            from django.core.exceptions import PermissionDenied

            raise PermissionDenied
        if form.is_valid():
            try:
                services.blocklist_add(
                    tenant=request.tenant, actor=request.user, **form.cleaned_data
                )
            except DomainError as exc:
                error_message(request, exc, form)
            else:
                messages.success(request, _("Added to the blocklist."))
                return redirect("fraud:blocklist")
    entries = (
        BlockedIdentifier.objects.for_tenant(request.tenant)
        .select_related("created_by")
        .order_by("-created_at")
    )
    return render(
        request,
        "fraud/blocklist.html",
        {"entries": entries, "form": form, "can_decide": has_role(request, REVIEW)},
    )


@require_POST
@tenant_required(REVIEW)
def blocklist_remove(request, pk: int):
    entry = BlockedIdentifier.objects.for_tenant(request.tenant).filter(pk=pk).first()
    if entry is None:
        raise Http404
    services.blocklist_remove(entry=entry, actor=request.user)
    messages.success(request, _("Removed from the blocklist."))
    return redirect("fraud:blocklist")


# --- policy and backtesting ------------------------------------------------------------------


def _int_or_none(value):
    try:
        return int(value) if str(value).strip() != "" else None
    except (TypeError, ValueError):
        return None


def _proposal(data, current):
    """The proposed policy from the form: thresholds and one weight per signal."""
    weights = {}
    for code in SIGNAL_CODES:
        value = _int_or_none(data.get(f"w_{code}"))
        if value is not None:
            weights[code] = value
    return {
        "review_threshold": _int_or_none(data.get("review_threshold")),
        "reject_threshold": _int_or_none(data.get("reject_threshold")),
        "weights": weights,
    }


@tenant_required(READ_REVIEW)
def policy(request):
    from programs.selectors import program_list

    from .backtest import backtest
    from .signals import DEFAULT_WEIGHTS

    programs = program_list(request.tenant)
    program = programs.filter(
        slug=request.GET.get("program") or request.POST.get("program") or ""
    ).first()
    current = selectors.policy_for(request.tenant, program.pk if program else None)
    if request.method == "POST":
        if not has_role(request, REVIEW):
            from django.core.exceptions import PermissionDenied

            raise PermissionDenied
        proposal = _proposal(request.POST, current)
        try:
            services.policy_update(
                tenant=request.tenant, actor=request.user, program=program, **proposal
            )
        except DomainError as exc:
            error_message(request, exc)
        else:
            messages.success(request, _("Policy saved."))
        return redirect(f"{request.path}?program={program.slug if program else ''}")
    proposal = _proposal(request.GET, current) if "backtest" in request.GET else None
    proposed = current.merged(**proposal) if proposal else None
    rows = (
        selectors.backtest_rows(request.tenant, program_id=program.pk if program else None)
        if proposal
        else []
    )
    weights = [
        {
            "code": code,
            "default": DEFAULT_WEIGHTS.get(code, 0),
            "current": current.weights.get(code, DEFAULT_WEIGHTS.get(code, 0)),
            "proposed": (proposal["weights"].get(code) if proposal else None),
        }
        for code in SIGNAL_CODES
    ]
    return render(
        request,
        "fraud/policy.html",
        {
            "programs": programs,
            "program": program,
            "current": current,
            "weights": weights,
            "proposal": proposal,
            "result_current": backtest(rows, current) if proposal else None,
            "result_proposed": backtest(rows, proposed) if proposal else None,
            "can_decide": has_role(request, REVIEW),
            "days": selectors.BACKTEST_DAYS,
        },
    )


# --- leaked codes -----------------------------------------------------------------------------


@tenant_required(READ_REVIEW)
def codes(request):
    flags = (
        CodeFlag.objects.for_tenant(request.tenant)
        .select_related("enrollment__participant", "resolved_by")
        .order_by("-flagged_at")
    )
    return render(
        request, "fraud/codes.html", {"flags": flags, "can_decide": has_role(request, REVIEW)}
    )


@require_POST
@tenant_required(REVIEW)
def code_resolve(request, pk: int):
    flag = CodeFlag.objects.for_tenant(request.tenant).filter(pk=pk).first()
    if flag is None:
        raise Http404
    try:
        services.code_flag_resolve(
            flag=flag, action=request.POST.get("action", ""), actor=request.user
        )
    except DomainError as exc:
        error_message(request, exc)
    else:
        messages.success(request, _("Done."))
    return redirect("fraud:codes")
