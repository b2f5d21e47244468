"""Staff page access: a membership in the current tenant, and a role high enough."""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render

from .models import Role

# Who may do what. Reading is open to every role.
EDIT_PROGRAMS = {Role.OWNER, Role.MARKETER}
REVIEW = {Role.OWNER, Role.OPS}
MANAGE_TEAM = {Role.OWNER}
MANAGE_KEYS = {Role.OWNER}
MANAGE_WEBHOOKS = {Role.OWNER}
MANAGE_PAYOUTS = {Role.OWNER, Role.OPS}
READ = {Role.OWNER, Role.MARKETER, Role.OPS, Role.ANALYST}


def tenant_required(roles: set[str] | None = None):
    """Login, a current tenant, and (for writes) one of `roles`; 403 for a role too low."""

    def decorate(view):
        @wraps(view)
        @login_required
        def wrapper(request, *args, **kwargs):
            if request.tenant is None:
                return render(request, "tenancy/no_tenant.html", status=403)
            if roles is not None and request.membership.role not in roles:
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapper

    return decorate


def has_role(request, roles: set[str]) -> bool:
    return request.membership is not None and request.membership.role in roles
