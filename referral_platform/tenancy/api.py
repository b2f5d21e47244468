"""API-key authentication: the key decides the tenant and activates its context."""

from __future__ import annotations

from rest_framework import authentication, exceptions, permissions, throttling

from .scoping import activate_tenant
from .services import api_key_authenticate


class ApiKeyPrincipal:
    is_authenticated = True
    is_anonymous = False

    def __init__(self, key):
        self.key = key
        self.pk = None
        self.email = f"api_key:{key.prefix}"

    def __str__(self) -> str:
        return self.email


class ApiKeyAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request):
        header = request.headers.get("Authorization", "")
        if not header:
            return None
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise exceptions.AuthenticationFailed("Use 'Authorization: Bearer <api_key>'.")
        key = api_key_authenticate(token.strip())
        if key is None:
            raise exceptions.AuthenticationFailed("Invalid or revoked API key.")
        request._request.tenant = key.tenant
        request._request.api_key = key
        # Reset by TenantMiddleware when the response leaves.
        activate_tenant(key.tenant)
        return ApiKeyPrincipal(key), key

    def authenticate_header(self, request) -> str:
        return "Bearer"


class HasTenant(permissions.BasePermission):
    def has_permission(self, request, view) -> bool:
        return getattr(request._request, "tenant", None) is not None and request.auth is not None


class ApiKeyRateThrottle(throttling.SimpleRateThrottle):
    scope = "api_key"

    def get_cache_key(self, request, view):
        if request.auth is None:
            return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
        return self.cache_format % {"scope": self.scope, "ident": request.auth.prefix}


def __getattr__(name: str):
    # `TenantAPIView` is importable from here too; lazily, because DRF imports this module
    # (the authentication setting) while `rest_framework.views` is still initialising.
    if name == "TenantAPIView":
        from referral_platform.core.api.views import TenantAPIView

        return TenantAPIView
    raise AttributeError(name)
