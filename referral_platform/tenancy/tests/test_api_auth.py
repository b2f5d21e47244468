"""API-key authentication on the hot path: a cached lookup, last use written at most once a
minute, revocation and tenant edits seen at once, and the per-key rate limit."""

from datetime import timedelta

import pytest
import time_machine

from referral_platform.core import clock
from referral_platform.tenancy import services
from referral_platform.tenancy.api import ApiKeyRateThrottle
from referral_platform.tenancy.models import ApiKey


@pytest.fixture(autouse=True)
def _forget_keys():
    services.api_key_cache_forget()


def test_a_known_key_is_authenticated_without_a_query_and_its_last_use_written_once_a_minute(
    tenant, api_key, django_assert_num_queries
):
    with django_assert_num_queries(2):  # the lookup, and the first last_used_at
        first = services.api_key_authenticate(api_key)
    with django_assert_num_queries(0):
        again = services.api_key_authenticate(api_key)
    assert (first.tenant.slug, again.tenant.slug, again.pk) == ("acme", "acme", first.pk)
    # Each caller gets its own instances; the cached ones are shared between threads.
    assert again is not first and again.tenant is not first.tenant
    used = ApiKey.unscoped.get(pk=first.pk).last_used_at
    with time_machine.travel(clock.now() + timedelta(seconds=61)):
        with django_assert_num_queries(1):  # UPDATE last_used_at, no lookup
            services.api_key_authenticate(api_key)
        assert ApiKey.unscoped.get(pk=first.pk).last_used_at > used


def test_a_wrong_secret_with_a_known_prefix_is_refused_even_while_the_key_is_cached(api_key):
    assert services.api_key_authenticate(api_key) is not None
    prefix, _, secret = api_key.partition(".")
    assert services.api_key_authenticate(f"{prefix}.{'x' * len(secret)}") is None


def test_a_revoked_key_is_refused_at_once(tenant, api, api_key):
    assert api.get("/api/v1/programs").status_code == 200
    services.api_key_revoke(key=ApiKey.unscoped.get(tenant=tenant))
    response = api.get("/api/v1/programs")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthenticated"


def test_an_edited_tenant_is_seen_by_the_next_call(tenant, api_key):
    assert services.api_key_authenticate(api_key).tenant.timezone == "Asia/Shanghai"
    tenant.timezone = "Europe/Paris"
    tenant.save()
    assert services.api_key_authenticate(api_key).tenant.timezone == "Europe/Paris"


def _limited(monkeypatch, rate: str) -> None:
    monkeypatch.setattr(ApiKeyRateThrottle, "THROTTLE_RATES", {"api_key": rate})


def _throttle_case(api, other_api, monkeypatch):
    _limited(monkeypatch, "3/min")
    start = clock.now().replace(second=5, microsecond=0) + timedelta(minutes=1)
    with time_machine.travel(start, tick=False):
        assert [api.get("/api/v1/programs").status_code for _ in range(3)] == [200, 200, 200]
        limited = api.get("/api/v1/programs")
        assert limited.status_code == 429
        assert limited["Retry-After"] == "55"
        assert limited.json() == {
            "error": {"code": "rate_limited", "message": "Too many requests.", "fields": {}}
        }
        # The limit is per key.
        assert other_api.get("/api/v1/programs").status_code == 200
    with time_machine.travel(start + timedelta(minutes=1), tick=False):
        assert api.get("/api/v1/programs").status_code == 200
    return int(start.timestamp() // 60)


def test_past_the_rate_a_key_gets_429_with_retry_after_until_the_next_window(
    api, other_api, monkeypatch
):
    _throttle_case(api, other_api, monkeypatch)


def test_the_rate_limit_counts_in_redis_too(
    api, api_key, other_api, monkeypatch, settings, redis_url
):
    from django.core.cache import caches

    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": redis_url,
            # A prefix of this run's own: other test runs may share the Redis database.
            "KEY_PREFIX": f"test-throttle-{clock.now().timestamp()}",
        }
    }
    window = _throttle_case(api, other_api, monkeypatch)
    prefix = api_key.partition(".")[0]
    # One plain integer per key and window, readable through the cache API.
    assert caches["default"].get(f"throttle_api_key_{prefix}:{window}") == 4
