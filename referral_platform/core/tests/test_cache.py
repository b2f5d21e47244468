"""The Redis cache degrades while Redis is unreachable: misses, dropped writes, requests let
through by the rate-limit counters; each call counted for /metrics."""

import time

from django.core.cache.backends.redis import RedisCache

from referral_platform.core import cache as resilient
from referral_platform.core.metrics import render_metrics
from referral_platform.core.testing import free_port


def _unreachable():
    return resilient.ResilientRedisCache(
        f"redis://127.0.0.1:{free_port()}/0",
        {"OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2}},
    )


def test_an_unreachable_redis_answers_misses_and_lets_counters_through(monkeypatch):
    monkeypatch.setattr(resilient, "RETRY_AFTER", 0.0)
    resilient.degraded.clear()
    cache = _unreachable()
    assert isinstance(cache, RedisCache)
    assert cache.get("k") is None and cache.get("k", "fallback") == "fallback"
    assert cache.get_many(["a", "b"]) == {} and cache.has_key("k") is False
    assert cache.set("k", 1) is None and cache.delete("k") is False
    assert cache.add("lock", 1) is True  # a lock or a first-in-window counter goes ahead
    assert cache.incr("count", 3) == 3
    assert cache.get_or_set("k", 7) == 7
    assert resilient.degraded["get"] >= 2 and resilient.degraded["incr"] == 1
    assert 'referral_platform_cache_degraded_total{op="incr"} 1' in render_metrics()


def test_after_a_failure_redis_is_left_alone_for_a_moment(monkeypatch):
    monkeypatch.setattr(resilient, "RETRY_AFTER", 30.0)
    monkeypatch.setitem(resilient._state, "down_until", 0.0)
    cache = _unreachable()
    calls = []
    real = RedisCache.get

    def counted(self, *args, **kwargs):
        calls.append(args)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(RedisCache, "get", counted)
    started = time.monotonic()
    assert [cache.get(f"k{i}") for i in range(20)] == [None] * 20
    assert len(calls) == 1 and time.monotonic() - started < 2
