"""Staff pages for participants: find one by external id, email or referral code; see their
enrolments, referrals on both sides, rewards, points and consent; block, unblock or erase.
Reads go through tracking's and rewards' selectors, writes through their services (and the
fraud blocklist), each of which writes the audit log."""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from referral_platform.core.errors import DomainError
from referral_platform.tenancy.permissions import MANAGE_TEAM, REVIEW, has_role, tenant_required

PAGE = 50


def participant_search(*, tenant, query: str):
    """Participants whose external id or name contains `query`, whose email is `query`, or
    who own the referral code `query`."""
    from tracking import codes, identity
    from tracking.models import Participant, ReferralCode
    from tracking.selectors import participant_list

    query = (query or "").strip()
    found = participant_list(tenant=tenant, query=query)
    if not query:
        return found.order_by("-created_at")[:PAGE]
    extra = Q()
    if "@" in query:
        extra |= Q(email_hash=identity.email_hash(query))
    owners = ReferralCode.objects.for_tenant(tenant).filter(code=codes.normalize_code(query))
    extra |= Q(pk__in=owners.values("enrollment__participant_id"))
    matches = Participant.objects.for_tenant(tenant).filter(merged_into__isnull=True).filter(extra)
    return (found | matches).distinct().order_by("-created_at")[:PAGE]


def _participant(request, pk: int):
    from tracking.models import Participant

    participant = Participant.objects.for_tenant(request.tenant).filter(pk=pk).first()
    if participant is None:
        raise Http404
    return participant


def _blocklist_entries(participant):
    """The tenant's blocklist entries that match this participant's email or phone."""
    from fraud import identity as fraud_identity
    from fraud.models import BlockedIdentifier

    tokens = []
    if participant.email:
        tokens.append(("email", fraud_identity.email_token(participant.email)))
    if participant.phone:
        tokens.append(("phone", fraud_identity.phone_token(participant.phone)))
    query = Q(pk__in=[])
    for kind, token in tokens:
        if token:
            query |= Q(kind=kind, value_hash=token)
    return list(BlockedIdentifier.objects.for_tenant(participant.tenant_id).filter(query))


@tenant_required()
def participant_list(request):
    query = request.GET.get("q", "")
    return render(
        request,
        "programs/participants/list.html",
        {"participants": participant_search(tenant=request.tenant, query=query), "q": query},
    )


@tenant_required()
def participant_detail(request, pk: int):
    from rewards.selectors import participant_rewards, points_balance
    from tracking.models import Enrollment, Referral

    participant = _participant(request, pk)
    tenant = request.tenant
    context = {
        "participant": participant,
        "enrollments": Enrollment.objects.for_tenant(tenant)
        .filter(participant=participant)
        .select_related("program")
        .prefetch_related("codes"),
        "made": Referral.objects.for_tenant(tenant)
        .filter(referrer=participant)
        .select_related("program", "referee"),
        "received": Referral.objects.for_tenant(tenant)
        .filter(referee=participant)
        .select_related("program", "referrer"),
        "rewards": participant_rewards(tenant=tenant, participant_id=participant.pk)[:100],
        "points": points_balance(tenant=tenant, participant_id=participant.pk),
        "blocked": _blocklist_entries(participant),
        "can_block": has_role(request, REVIEW),
        "can_erase": has_role(request, MANAGE_TEAM),
    }
    return render(request, "programs/participants/detail.html", context)


@require_POST
@tenant_required(REVIEW)
def participant_block(request, pk: int):
    from fraud.services import blocklist_add

    participant = _participant(request, pk)
    done = 0
    for kind, value in (("email", participant.email), ("phone", participant.phone)):
        if value:
            try:
                blocklist_add(
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
    from fraud.services import blocklist_remove

    participant = _participant(request, pk)
    for entry in _blocklist_entries(participant):
        blocklist_remove(entry=entry, actor=request.user)
    messages.success(request, _("Unblocked."))
    return redirect("participants:detail", pk=pk)


@require_POST
@tenant_required(MANAGE_TEAM)
def participant_erase(request, pk: int):
    from tracking.services import participant_erase as erase

    participant = _participant(request, pk)
    if request.POST.get("confirm") != participant.external_id:
        messages.error(request, _("Type the participant's external id to confirm erasing."))
        return redirect("participants:detail", pk=pk)
    erase(participant=participant, actor_label=request.user.email)
    messages.success(
        request, _("Personal data erased; referrals and rewards keep their ids and amounts.")
    )
    return redirect("participants:detail", pk=pk)
