"""API-key authentication: the key decides the tenant and activates its context."""

from __future__ import annotations

import weakref

from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
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
    """A counter per key and fixed window (API_RATE_LIMIT, e.g. 6000/min). DRF's default
    reads and rewrites the list of every request time in the window on each call: tens of
    kilobytes per request at the API's rate, and updates lost between processes."""

    scope = "api_key"

    def get_cache_key(self, request, view):
        if request.auth is None:
            return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
        return self.cache_format % {"scope": self.scope, "ident": request.auth.prefix}

    def allow_request(self, request, view) -> bool:
        if self.rate is None:
            return True
        key = self.get_cache_key(request, view)
        if key is None:
            return True
        now = self.timer()
        window = int(now // self.duration)
        count = _window_hit(f"{key}:{window}", self.duration + 1)
        self.wait_seconds = (window + 1) * self.duration - now
        return count <= self.num_requests

    def wait(self) -> float:
        return self.wait_seconds


# One redis-py client per cache connection: Django's get_client() builds a new one per call,
# and redis-py 8 fills a table of ~170 response callbacks in each (about 70 µs, a few percent
# of an event's cost). A client holds nothing but its pool, which is thread-safe; the cache
# connections themselves are per thread, and a settings change makes new ones.
_clients: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _redis_client(cache: RedisCache):
    client = _clients.get(cache)
    if client is None:
        client = _clients[cache] = cache._cache.get_client(write=True)
    return client


def _window_hit(key: str, ttl: int) -> int:
    """Count one request in the window's counter and return the count."""
    cache = caches["default"]
    if isinstance(cache, RedisCache):
        # INCR and EXPIRE pipelined: one round trip on the API's hot path, where Django's
        # incr() alone makes two (EXISTS, then INCR). Django stores integers as plain
        # Redis integers, so the counter stays readable through the cache API.
        raw = cache.make_and_validate_key(key)
        pipe = _redis_client(cache).pipeline(transaction=False)
        pipe.incr(raw)
        pipe.expire(raw, ttl)
        return pipe.execute()[0]
    try:
        return cache.incr(key)
    except ValueError:
        # First request of the window (or a race to it): add is atomic, so one wins.
        cache.add(key, 0, ttl)
        return cache.incr(key)


def __getattr__(name: str):
    # `TenantAPIView` is importable from here too; lazily, because DRF imports this module
    # (the authentication setting) while `rest_framework.views` is still initialising.
    if name == "TenantAPIView":
        from referral_platform.core.api.views import TenantAPIView

        return TenantAPIView
    raise AttributeError(name)
