"""Staff pages under /app/rewards/: rewards with filters and totals, a reward's history,
payout batches, coupon pools, charity totals; and the public unsubscribe page. Thin:
parse, one service or selector, render."""

from __future__ import annotations

import csv
import io

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_http_methods, require_POST

from referral_platform.core.errors import DomainError
from referral_platform.core.forms import MoneyField
from referral_platform.core.models import AuditEntry
from referral_platform.tenancy.permissions import (
    EDIT_PROGRAMS,
    MANAGE_PAYOUTS,
    MANAGE_TEAM,
    READ,
    has_role,
    tenant_required,
)

from . import certificates, selectors, services
from .models import (
    LedgerEntry,
    Payout,
    PayoutBatch,
    Reward,
    RewardKind,
    RewardSettings,
    RewardStatus,
)
from .notifications import unsubscribe_token_read


class RewardFilterForm(forms.Form):
    status = forms.ChoiceField(
        choices=[("", gettext_lazy("Any status"))] + RewardStatus.choices, required=False
    )
    kind = forms.ChoiceField(
        choices=[("", gettext_lazy("Any kind"))] + RewardKind.choices, required=False
    )
    program = forms.SlugField(required=False)
    participant = forms.CharField(required=False, max_length=200)
    payout = forms.ChoiceField(
        choices=[("", gettext_lazy("Any payout")), ("failed", gettext_lazy("Payout failed"))],
        required=False,
    )


class CouponUploadForm(forms.Form):
    program = forms.SlugField()
    rule_key = forms.CharField(max_length=80, label=gettext_lazy("Reward item key"))
    file = forms.FileField(label=gettext_lazy("CSV file, one code per line"))


class PayoutSettingsForm(forms.Form):
    second_approval_above = MoneyField(
        required=False, label=gettext_lazy("Second approval above (%(currency)s)")
    )

    def __init__(self, *args, currency: str, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["second_approval_above"].set_currency(currency)


def _error(request, exc: DomainError) -> None:
    messages.error(request, exc.message)


def _reward(request, reward_id: int) -> Reward:
    reward = (
        Reward.objects.for_tenant(request.tenant)
        .select_related("participant", "program")
        .filter(pk=reward_id)
        .first()
    )
    if reward is None:
        raise Http404
    return reward


def _batch(request, batch_id: int) -> PayoutBatch:
    batch = (
        PayoutBatch.objects.for_tenant(request.tenant)
        .select_related("program")
        .filter(pk=batch_id)
        .first()
    )
    if batch is None:
        raise Http404
    return batch


def _programs(request):
    from programs.selectors import program_list

    return program_list(request.tenant)


@tenant_required(READ)
def reward_list(request):
    form = RewardFilterForm(request.GET or None)
    filters = {k: v for k, v in (form.cleaned_data if form.is_valid() else {}).items() if v}
    qs = selectors.reward_list(tenant=request.tenant, **filters).order_by("-created_at", "-id")
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    held = selectors.ambassadors(
        tenant=request.tenant, participant_ids={r.participant_id for r in page}
    )
    for r in page:
        r.is_ambassador = (r.participant_id, r.program_id) in held
    return render(
        request,
        "rewards/list.html",
        {
            "form": form,
            "page": page,
            "totals": [
                {
                    **t,
                    "status_label": RewardStatus(t["status"]).label,
                    "kind_label": RewardKind(t["kind"]).label,
                }
                for t in selectors.reward_totals(qs)
            ],
            "programs": _programs(request),
        },
    )


@tenant_required(READ)
def reward_detail(request, reward_id: int):
    reward = _reward(request, reward_id)
    history = (
        AuditEntry.objects.for_tenant(request.tenant)
        .filter(target_type="rewards.reward", target_id=str(reward.pk))
        .order_by("created_at", "id")
    )
    return render(
        request,
        "rewards/detail.html",
        {
            "reward": reward,
            "has_certificate": certificates.certificate_available(reward),
            "history": history,
            "entries": LedgerEntry.objects.for_tenant(request.tenant)
            .filter(reward=reward)
            .order_by("id"),
            "payouts": Payout.objects.for_tenant(request.tenant)
            .filter(reward=reward)
            .order_by("id"),
            "cash": list(
                selectors.cash_positions(
                    tenant_id=request.tenant.pk, participant_id=reward.participant_id
                ).values()
            ),
            "can_pay": has_role(request, MANAGE_PAYOUTS),
        },
    )


@require_POST
@tenant_required(MANAGE_PAYOUTS)
def reward_clawback(request, reward_id: int):
    reward = _reward(request, reward_id)
    if services.reward_clawback(
        reward_id=reward.pk,
        reason=request.POST.get("reason", "")[:200] or "staff",
        actor=request.user,
    ):
        messages.success(request, _("The reward was clawed back."))
    else:
        messages.error(request, _("Only a fulfilled reward can be clawed back."))
    return redirect("rewards:detail", reward.pk)


@require_POST
@tenant_required(MANAGE_PAYOUTS)
def reward_payout_again(request, reward_id: int):
    reward = _reward(request, reward_id)
    try:
        services.payout_request_again(reward=reward, actor=request.user)
        messages.success(request, _("A new payout was requested."))
    except DomainError as exc:
        _error(request, exc)
    return redirect("rewards:detail", reward.pk)


@tenant_required(READ)
def batch_list(request):
    return _batches_render(request)


def _batches_render(request, settings_form: PayoutSettingsForm | None = None, status: int = 200):
    batches = (
        PayoutBatch.objects.for_tenant(request.tenant)
        .select_related("program")
        .order_by("-created_at", "-id")
    )
    rows = [{"batch": b, "total": selectors.payout_batch_total(b)} for b in batches[:200]]
    if settings_form is None:
        settings_row = RewardSettings.objects.for_tenant(request.tenant).first()
        threshold = settings_row.second_approval_above_minor if settings_row else None
        settings_form = PayoutSettingsForm(
            initial={"second_approval_above": threshold}, currency=request.tenant.currency
        )
    return render(
        request,
        "rewards/batches.html",
        {
            "rows": rows,
            "settings_form": settings_form,
            "can_configure": has_role(request, MANAGE_TEAM),
        },
        status=status,
    )


@require_POST
@tenant_required(MANAGE_TEAM)
def payout_settings(request):
    form = PayoutSettingsForm(request.POST, currency=request.tenant.currency)
    if not form.is_valid():
        return _batches_render(request, settings_form=form, status=422)
    services.reward_settings_update(
        tenant=request.tenant,
        actor=request.user,
        second_approval_above_minor=form.cleaned_data["second_approval_above"],
    )
    messages.success(request, _("Payout settings saved."))
    return redirect("rewards:batches")


@tenant_required(READ)
def batch_detail(request, batch_id: int):
    batch = _batch(request, batch_id)
    payouts = (
        Payout.objects.for_tenant(request.tenant)
        .filter(batch=batch)
        .select_related("reward__participant")
    )
    return render(
        request,
        "rewards/batch_detail.html",
        {
            "batch": batch,
            "payouts": payouts,
            "total": selectors.payout_batch_total(batch),
            "can_pay": has_role(request, MANAGE_PAYOUTS),
        },
    )


@require_POST
@tenant_required(MANAGE_PAYOUTS)
def batch_approve(request, batch_id: int):
    batch = _batch(request, batch_id)
    try:
        batch = services.payout_batch_approve(batch=batch, actor=request.user)
        if batch.status == "approved":
            messages.success(request, _("The batch is approved."))
        else:
            messages.info(request, _("Approved by you; a second person must approve it too."))
    except DomainError as exc:
        _error(request, exc)
    return redirect("rewards:batch", batch.pk)


@require_POST
@tenant_required(MANAGE_PAYOUTS)
def batch_mark_paid(request, batch_id: int):
    batch = _batch(request, batch_id)
    try:
        count = services.payout_batch_mark_paid(batch=batch, actor=request.user)
        messages.success(
            request,
            ngettext("%(n)s payout marked paid.", "%(n)s payouts marked paid.", count)
            % {"n": count},
        )
    except DomainError as exc:
        _error(request, exc)
    return redirect("rewards:batch", batch.pk)


@tenant_required(MANAGE_PAYOUTS)
def batch_export(request, batch_id: int):
    batch = _batch(request, batch_id)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(selectors.PAYOUT_CSV_HEADER)
    for row in selectors.payout_batch_rows(batch):
        writer.writerow(row)
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="payouts-{batch.cadence}-{batch.period_key}-{batch.currency}.csv"'
    )
    return response


@tenant_required(READ)
def coupon_pools(request):
    return render(
        request,
        "rewards/coupons.html",
        {
            "pools": selectors.coupon_pools(tenant=request.tenant),
            "form": CouponUploadForm(),
            "programs": _programs(request),
            "can_upload": has_role(request, EDIT_PROGRAMS),
        },
    )


@require_POST
@tenant_required(EDIT_PROGRAMS)
def coupon_upload(request):
    form = CouponUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, _("Choose a program, an item key and a CSV file."))
        return redirect("rewards:coupons")
    program = _programs(request).filter(slug=form.cleaned_data["program"]).first()
    if program is None:
        raise Http404
    text = form.cleaned_data["file"].read(5_000_000).decode("utf-8-sig", "replace")
    codes = [
        row[0]
        for row in csv.reader(io.StringIO(text))
        if row and row[0].strip() and row[0].strip().lower() != "code"
    ]
    try:
        added = services.coupon_pool_upload(
            tenant=request.tenant,
            program=program,
            rule_key=form.cleaned_data["rule_key"],
            codes=codes,
            actor=request.user,
        )
        messages.success(
            request, ngettext("%(n)s code added.", "%(n)s codes added.", added) % {"n": added}
        )
    except DomainError as exc:
        _error(request, exc)
    return redirect("rewards:coupons")


@tenant_required(READ)
def charity(request):
    return render(
        request, "rewards/charity.html", {"totals": selectors.charity_totals(tenant=request.tenant)}
    )


@tenant_required(READ)
def certificate(request, reward_id: int):
    reward = _reward(request, reward_id)
    if not certificates.certificate_available(reward):
        raise Http404
    return HttpResponse(certificates.donation_certificate_png(reward), content_type="image/png")


@require_http_methods(["GET", "POST"])
def unsubscribe(request, token: str):
    parsed = unsubscribe_token_read(token)
    if parsed is None:
        return render(request, "rewards/unsubscribe.html", {"invalid": True}, status=404)
    done = False
    if request.method == "POST":
        services.notifications_opt_out(tenant_id=parsed[0], participant_id=parsed[1])
        done = True
    return render(request, "rewards/unsubscribe.html", {"done": done, "token": token})
