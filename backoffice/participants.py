"""Staff pages for participants: find one by external id, email or referral code; see their
enrolments, referrals on both sides, rewards, points and consent; block, unblock or erase.
Reads go through tracking's, fraud's and rewards' selectors, writes through their services,
each of which writes the audit log."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from fraud import selectors as fraud_selectors
from fraud import services as fraud_services
from referral_platform.core.errors import DomainError, NotFound
from referral_platform.tenancy.permissions import MANAGE_TEAM, REVIEW, has_role, tenant_required
from rewards.selectors import participant_rewards, points_balance
from tracking import selectors as tracking_selectors
from tracking import services as tracking_services


def _participant(request, pk: int):
    try:
        return tracking_selectors.participant_get(tenant=request.tenant, participant_id=pk)
    except NotFound:
        raise Http404 from None


@tenant_required()
def participant_list(request):
    query = request.GET.get("q", "")
    found = tracking_selectors.participant_search(tenant=request.tenant, query=query)
    return render(request, "backoffice/participants/list.html", {"participants": found, "q": query})


@tenant_required()
def participant_detail(request, pk: int):
    participant = _participant(request, pk)
    tenant = request.tenant
    context = {
        "participant": participant,
        "enrollments": tracking_selectors.participant_enrollments(
            tenant=tenant, participant=participant
        ),
        **tracking_selectors.participant_referrals(tenant=tenant, participant=participant),
        "rewards": participant_rewards(tenant=tenant, participant_id=participant.pk)[:100],
        "points": points_balance(tenant=tenant, participant_id=participant.pk),
        "blocked": fraud_selectors.blocklist_entries_for(participant),
        "can_block": has_role(request, REVIEW),
        "can_erase": has_role(request, MANAGE_TEAM),
    }
    return render(request, "backoffice/participants/detail.html", context)


@require_POST
@tenant_required(REVIEW)
def participant_block(request, pk: int):
    participant = _participant(request, pk)
    done = 0
    for kind, value in (("email", participant.email), ("phone", participant.phone)):
        if value:
            try:
                fraud_services.blocklist_add(
                    tenant=request.tenant, kind=kind, value=value, actor=request.user,
                    note=_("Blocked from participant %(id)s") % {"id": participant.external_id},
                )  # fmt: skip
                done += 1
            except DomainError as exc:
                messages.error(request, exc.message)
    if done:
        messages.success(request, _("Blocked: the fraud checks now flag this email and phone."))
    elif not participant.email and not participant.phone:
        messages.error(request, _("Nothing to block: no email or phone is known."))
    return redirect("participants:detail", pk=pk)


@require_POST
@tenant_required(REVIEW)
def participant_unblock(request, pk: int):
    participant = _participant(request, pk)
    for entry in fraud_selectors.blocklist_entries_for(participant):
        fraud_services.blocklist_remove(entry=entry, actor=request.user)
    messages.success(request, _("Unblocked."))
    return redirect("participants:detail", pk=pk)


@require_POST
@tenant_required(MANAGE_TEAM)
def participant_erase(request, pk: int):
    participant = _participant(request, pk)
    if request.POST.get("confirm") != participant.external_id:
        messages.error(request, _("Type the participant's external id to confirm erasing."))
        return redirect("participants:detail", pk=pk)
    tracking_services.participant_erase(participant=participant, actor_label=request.user.email)
    messages.success(
        request, _("Personal data erased; referrals and rewards keep their ids and amounts.")
    )
    return redirect("participants:detail", pk=pk)
