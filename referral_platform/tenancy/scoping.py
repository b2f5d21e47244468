"""Tenant scoping that fails closed.

Every tenant-owned model inherits `TenantOwnedModel`. Its default manager refuses to
query unless a tenant context is active (`tenant_context(t)`, set by the UI middleware
from the membership, by API-key authentication, and by tasks from their `tenant_id`
argument), or the caller says which tenant explicitly with `.for_tenant(t)`.
`Model.unscoped` is the one named escape hatch (cross-tenant sweeps, the hot redirect
path's cached lookup by a globally unique code, admin).
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from django.db import models

from referral_platform.core.errors import TenantContextMissing

if TYPE_CHECKING:
    from .models import Tenant

_current_tenant: contextvars.ContextVar[Tenant | None] = contextvars.ContextVar(
    "current_tenant", default=None
)


def get_current_tenant() -> Tenant | None:
    return _current_tenant.get()


def require_current_tenant() -> Tenant:
    tenant = _current_tenant.get()
    if tenant is None:
        raise TenantContextMissing("no tenant context is active")
    return tenant


def activate_tenant(tenant: Tenant | None) -> contextvars.Token:
    return _current_tenant.set(tenant)


def deactivate_tenant(token: contextvars.Token) -> None:
    _current_tenant.reset(token)


@contextmanager
def tenant_context(tenant: Tenant) -> Iterator[Tenant]:
    token = _current_tenant.set(tenant)
    try:
        yield tenant
    finally:
        _current_tenant.reset(token)


class TenantQuerySet(models.QuerySet):
    def for_tenant(self, tenant: Tenant | int) -> TenantQuerySet:
        tenant_id = tenant if isinstance(tenant, int) else tenant.pk
        return self.filter(tenant_id=tenant_id)


class TenantManager(models.Manager.from_queryset(TenantQuerySet)):
    """Default manager of tenant-owned models: scoped to the active tenant, or raises."""

    def get_queryset(self) -> TenantQuerySet:
        tenant = _current_tenant.get()
        if tenant is None:
            raise TenantContextMissing(
                f"{self.model.__name__} queried without a tenant context; "
                "use tenant_context(), .for_tenant(t) or .unscoped"
            )
        return super().get_queryset().filter(tenant_id=tenant.pk)

    def for_tenant(self, tenant: Tenant | int) -> TenantQuerySet:
        tenant_id = tenant if isinstance(tenant, int) else tenant.pk
        return super().get_queryset().filter(tenant_id=tenant_id)


class TenantOwnedModel(models.Model):
    tenant = models.ForeignKey("tenancy.Tenant", on_delete=models.CASCADE, related_name="+")

    objects = TenantManager()
    unscoped = models.Manager.from_queryset(TenantQuerySet)()

    class Meta:
        # Related-object access and deletion cascades use Django's plain base manager,
        # so they do not depend on a context.
        abstract = True
