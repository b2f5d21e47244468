"""The review decisions, which cross apps (the case, the referral's status, its rewards):
the staff pages post here and `pipeline.flow` applies them. The queue, the case page and
the rest of the review pages are fraud's."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from fraud import selectors as fraud_selectors
from fraud import services as fraud_services
from fraud.forms import BulkForm, DecisionForm
from fraud.views import error_message, reviewers
from referral_platform.core.errors import DomainError
from referral_platform.tenancy.permissions import REVIEW, tenant_required

from . import flow


@require_POST
@tenant_required(REVIEW)
def decide(request, referral_id: int):
    case = fraud_selectors.review_case_get(request.tenant, referral_id)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose approve or reject."))
        return redirect("fraud:detail", referral_id)
    try:
        flow.review_decide(
            referral=case.referral,
            decision=form.cleaned_data["decision"],
            actor=request.user,
            note=form.cleaned_data["note"],
        )
    except DomainError as exc:
        error_message(request, exc, form)
        return redirect("fraud:detail", referral_id)
    if form.cleaned_data["decision"] == "approve":
        messages.success(
            request,
            _("Referral #%(id)s approved; its held rewards are released.") % {"id": referral_id},
        )
    else:
        messages.success(
            request, _("Referral #%(id)s rejected; its rewards are rejected.") % {"id": referral_id}
        )
    return redirect("fraud:queue")


@require_POST
@tenant_required(REVIEW)
def bulk(request):
    ids = [int(i) for i in request.POST.getlist("referrals") if str(i).isdigit()]
    form = BulkForm(request.POST, referral_ids=ids)
    if not ids or not form.is_valid():
        messages.error(request, _("Select at least one referral and an action."))
        return redirect("fraud:queue")
    data = form.cleaned_data
    try:
        if data["action"] == "assign":
            assignee = reviewers(request.tenant).filter(pk=data.get("assignee")).first()
            count = fraud_services.review_assign(
                tenant=request.tenant,
                referral_ids=data["referrals"],
                assignee=assignee,
                actor=request.user,
            )
            messages.success(
                request,
                ngettext("%(n)s referral assigned.", "%(n)s referrals assigned.", count)
                % {"n": count},
            )
        else:
            result = flow.review_decide_bulk(
                tenant=request.tenant,
                referral_ids=data["referrals"],
                decision=data["action"],
                actor=request.user,
                note=data["note"],
            )
            messages.success(
                request,
                _("%(done)s decided, %(skipped)s skipped (already decided).")
                % {"done": len(result["decided"]), "skipped": len(result["skipped"])},
            )
    except DomainError as exc:
        error_message(request, exc, form)
    return redirect("fraud:queue")
