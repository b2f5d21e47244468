"""Staff pages of the tenancy app: home, switcher, settings, team, invitations, API keys,
sandbox and the audit log. Each view checks the role, calls one service, renders."""

from __future__ import annotations

import csv
from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.core.paginator import Paginator
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from referral_platform.core import clock
from referral_platform.core.audit import AUDIT_CSV_HEADER, audit_csv_row
from referral_platform.core.colour import brand_colour_warnings
from referral_platform.core.errors import DomainError
from referral_platform.core.models import AuditEntry
from referral_platform.core.net import client_ip
from referral_platform.core.ratelimit import limit_per_ip

from . import readside, services
from .forms import AcceptInvitationForm, ApiKeyForm, InvitationForm, RoleForm, TenantSettingsForm
from .middleware import SESSION_KEY
from .models import ApiKey, Invitation, Membership
from .permissions import MANAGE_KEYS, MANAGE_PAYOUTS, MANAGE_TEAM, REVIEW, tenant_required


@tenant_required()
def home(request):
    """Where each app starts, and the work waiting for this member's role (none waits for
    marketers and analysts: they see no list, and it is not read for them)."""
    role = request.membership.role
    if role not in REVIEW | MANAGE_PAYOUTS:
        return render(request, "tenancy/home.html", {"waits_on_role": False})
    waiting = readside.waiting(request.tenant)
    shown = {
        "review": role in REVIEW and waiting["review"]["cases"],
        "approve": role in MANAGE_PAYOUTS and waiting["approve"]["batches"],
        "pay": role in MANAGE_PAYOUTS and waiting["pay"]["batches"],
        "failed": role in MANAGE_PAYOUTS and waiting["failed"]["payouts"],
    }
    oldest = waiting["review"]["oldest"]
    return render(
        request,
        "tenancy/home.html",
        {
            "waiting": waiting,
            "shown": shown,
            "waits_on_role": True,
            # `timesince` would say "0 minutes".
            "oldest_just_now": oldest is not None and clock.now() - oldest < timedelta(minutes=1),
        },
    )


@require_POST
@tenant_required()
def switch_tenant(request, tenant_id: int):
    if not any(m.tenant_id == tenant_id for m in request.memberships):
        raise Http404
    request.session[SESSION_KEY] = tenant_id
    return redirect("tenancy:home")


# --- Settings ------------------------------------------------------------------


@tenant_required(MANAGE_TEAM)
def tenant_settings(request):
    tenant = request.tenant
    if request.method == "POST":
        form = TenantSettingsForm(request.POST, request.FILES, instance=_fresh(tenant))
        if form.is_valid():
            changes = {f: form.cleaned_data[f] for f in form.changed_data}
            if "logo" in changes and not changes["logo"]:
                changes["logo"] = ""
            try:
                services.tenant_update_settings(
                    tenant=tenant,
                    actor=request.user,
                    changes=changes,
                    ip_address=client_ip(request),
                )
            except DomainError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, _("Settings saved."))
                for warning in brand_colour_warnings(form.cleaned_data["brand_colour"]):
                    messages.warning(request, warning)
                return redirect("tenancy:settings")
    else:
        form = TenantSettingsForm(instance=tenant)
    return render(
        request,
        "tenancy/settings.html",
        {
            "form": form,
            "public_base_url": settings.PUBLIC_BASE_URL,
            "brand_warnings": brand_colour_warnings(tenant.brand_colour),
        },
    )


def _fresh(tenant):
    # The form mutates its instance while validating; keep request.tenant untouched.
    return type(tenant).objects.get(pk=tenant.pk)


# --- Team and invitations -------------------------------------------------------


@tenant_required(MANAGE_TEAM)
def team(request):
    tenant = request.tenant
    form = InvitationForm()
    if request.method == "POST":
        form = InvitationForm(request.POST)
        if form.is_valid():
            try:
                services.invitation_create(
                    tenant=tenant,
                    email=form.cleaned_data["email"],
                    role=form.cleaned_data["role"],
                    actor=request.user,
                    ip_address=client_ip(request),
                )
            except DomainError as exc:
                form.add_error("email", exc.message)
            else:
                messages.success(
                    request,
                    _("Invitation sent to %(email)s.") % {"email": form.cleaned_data["email"]},
                )
                return redirect("tenancy:team")
    members = (
        Membership.objects.filter(tenant=tenant).select_related("user").order_by("user__email")
    )
    invitations = Invitation.objects.for_tenant(tenant).filter(accepted_at=None, revoked_at=None)
    return render(
        request,
        "tenancy/team.html",
        {
            "members": members,
            "invitations": invitations.order_by("-created_at"),
            "form": form,
            "role_form": RoleForm(),
        },
    )


@require_POST
@tenant_required(MANAGE_TEAM)
def member_role(request, pk: int):
    membership = get_object_or_404(Membership, tenant=request.tenant, pk=pk)
    form = RoleForm(request.POST)
    if form.is_valid():
        try:
            services.membership_change_role(
                membership=membership,
                role=form.cleaned_data["role"],
                actor=request.user,
                ip_address=client_ip(request),
            )
            messages.success(request, _("Role changed."))
        except DomainError as exc:
            messages.error(request, exc.message)
    return redirect("tenancy:team")


@require_POST
@tenant_required(MANAGE_TEAM)
def member_remove(request, pk: int):
    membership = get_object_or_404(Membership, tenant=request.tenant, pk=pk)
    try:
        services.membership_remove(
            membership=membership, actor=request.user, ip_address=client_ip(request)
        )
        messages.success(request, _("Removed from the team."))
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("tenancy:team")


@require_POST
@tenant_required(MANAGE_TEAM)
def invitation_revoke(request, pk: int):
    invitation = get_object_or_404(Invitation.objects.for_tenant(request.tenant), pk=pk)
    services.invitation_revoke(
        invitation=invitation, actor=request.user, ip_address=client_ip(request)
    )
    messages.success(request, _("Invitation revoked."))
    return redirect("tenancy:team")


@limit_per_ip(rate="20/m", group="invitation_accept", method="POST")
def invitation_accept(request, token: str):
    """Public: the signed token decides the tenant. New people set a password here."""
    invitation = services.invitation_from_token(token)
    if invitation is None:
        return render(request, "tenancy/invitation_invalid.html", status=404)
    user = request.user if request.user.is_authenticated else None
    wrong_user = user is not None and user.email.lower() != invitation.email.lower()
    from django.contrib.auth import get_user_model

    has_account = get_user_model().objects.filter(email__iexact=invitation.email).exists()
    form = AcceptInvitationForm(email=invitation.email)
    if request.method == "POST" and not wrong_user:
        if user is None and has_account:
            # An existing account must sign in first, so nobody can take it over by link.
            return redirect(f"{_login_url()}?next={request.path}")
        form = AcceptInvitationForm(request.POST, email=invitation.email)
        if user is not None or form.is_valid():
            try:
                membership = services.invitation_accept(
                    invitation=invitation,
                    user=user,
                    password=None if user is not None else form.cleaned_data["password1"],
                    ip_address=client_ip(request),
                )
            except DomainError as exc:
                messages.error(request, exc.message)
                return redirect("tenancy:home")
            if user is None:
                login(
                    request,
                    membership.user,
                    backend="django.contrib.auth.backends.ModelBackend",
                )
            request.session[SESSION_KEY] = membership.tenant_id
            messages.success(request, _("Welcome to %(name)s.") % {"name": membership.tenant.name})
            return redirect("tenancy:home")
    return render(
        request,
        "tenancy/invitation_accept.html",
        {
            "invitation": invitation,
            "form": form,
            "wrong_user": wrong_user,
            "has_account": has_account,
            "login_url": f"{_login_url()}?next={request.path}",
        },
    )


def _login_url() -> str:
    from django.urls import reverse

    return reverse("account_login")


# --- API keys ---------------------------------------------------------------------


@tenant_required(MANAGE_KEYS)
def api_keys(request):
    tenant = request.tenant
    created_key = None
    form = ApiKeyForm()
    if request.method == "POST":
        form = ApiKeyForm(request.POST)
        if form.is_valid():
            # Rendered, not redirected: this response is the only time the key is shown.
            _key, created_key = services.api_key_create(
                tenant=tenant,
                name=form.cleaned_data["name"],
                actor=request.user,
                ip_address=client_ip(request),
            )
            form = ApiKeyForm()
    keys = ApiKey.objects.for_tenant(tenant).order_by("revoked_at", "-created_at")
    response = render(
        request, "tenancy/api_keys.html", {"keys": keys, "form": form, "created_key": created_key}
    )
    if created_key:
        response["Cache-Control"] = "no-store"
    return response


@require_POST
@tenant_required(MANAGE_KEYS)
def api_key_revoke(request, pk: int):
    key = get_object_or_404(ApiKey.objects.for_tenant(request.tenant), pk=pk)
    services.api_key_revoke(key=key, actor=request.user, ip_address=client_ip(request))
    messages.success(request, _("Key %(prefix)s revoked.") % {"prefix": key.prefix})
    return redirect("tenancy:api_keys")


# --- Sandbox ------------------------------------------------------------------------


@require_POST
@tenant_required(MANAGE_TEAM)
def sandbox_open(request):
    tenant = request.tenant
    if tenant.is_sandbox:
        request.session[SESSION_KEY] = tenant.live_tenant_id
        return redirect("tenancy:home")
    sandbox = services.sandbox_open(
        tenant=tenant, actor=request.user, ip_address=client_ip(request)
    )
    request.session[SESSION_KEY] = sandbox.pk
    messages.info(request, _("You are in the sandbox: test data and rk_test_ keys only."))
    return redirect("tenancy:home")


# --- Audit log ------------------------------------------------------------------------


def _audit_entries(request):
    entries = AuditEntry.objects.for_tenant(request.tenant).order_by("-created_at", "-id")
    action = request.GET.get("action", "").strip()
    actor = request.GET.get("actor", "").strip()
    if action:
        entries = entries.filter(action__startswith=action)
    if actor:
        entries = entries.filter(actor_label__icontains=actor)
    return entries, {"action": action, "actor": actor}


@tenant_required(MANAGE_TEAM)
def audit_log_page(request):
    entries, filters = _audit_entries(request)
    page = Paginator(entries, 50).get_page(request.GET.get("page"))
    return render(request, "tenancy/audit.html", {"page": page, "filters": filters})


class _Echo:
    def write(self, value):
        return value


@tenant_required(MANAGE_TEAM)
def audit_log_export(request):
    entries, _filters = _audit_entries(request)
    writer = csv.writer(_Echo())
    header = [*AUDIT_CSV_HEADER, "ip_address", "request_id"]
    currency = request.tenant.currency

    def rows():
        yield writer.writerow(header)
        for e in entries.iterator(chunk_size=500):
            extra = (e.ip_address or "", e.request_id)
            yield writer.writerow(audit_csv_row(e, currency=currency, extra=extra))

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="audit-{request.tenant.slug}.csv"'
    return response
