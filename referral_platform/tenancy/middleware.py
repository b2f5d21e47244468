"""The UI's tenant: the session's chosen tenant among the user's memberships, else the first.
Staff pages show times in that tenant's time zone (SEMANTICS §1)."""

from __future__ import annotations

import zoneinfo

from allauth.mfa.models import Authenticator
from allauth.mfa.utils import is_mfa_enabled
from django.contrib import messages
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext as _

from .scoping import _current_tenant

SESSION_KEY = "tenant_id"


class TenantMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.tenant = None
        request.membership = None
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            memberships = list(user.memberships.select_related("tenant").order_by("tenant__name"))
            chosen = request.session.get(SESSION_KEY)
            membership = next((m for m in memberships if m.tenant_id == chosen), None)
            if membership is None and memberships:
                membership = memberships[0]
            request.memberships = memberships
            if membership is not None:
                request.membership = membership
                request.tenant = membership.tenant
        token = _current_tenant.set(request.tenant)
        if request.tenant is not None:
            timezone.activate(zoneinfo.ZoneInfo(request.tenant.timezone))
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
            # Also undoes what API-key authentication activated during the view.
            _current_tenant.reset(token)


class StaffMfaMiddleware:
    """A tenant that requires two-factor sign-in (`Tenant.require_mfa`) shows its staff pages
    only to members with an authenticator: anyone else is sent to set one up first. Once
    set up, allauth asks for its code at every sign-in."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        tenant = getattr(request, "tenant", None)
        if (
            tenant is not None
            and tenant.require_mfa
            and request.path.startswith("/app/")
            and not request.path.startswith("/app/switch/")
            and not is_mfa_enabled(request.user, [Authenticator.Type.TOTP])
        ):
            messages.warning(
                request,
                _("%(tenant)s requires two-factor sign-in: set up an authenticator app to go on.")
                % {"tenant": tenant.name},
            )
            return redirect("mfa_activate_totp")
        return self.get_response(request)
