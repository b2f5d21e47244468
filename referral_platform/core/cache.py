"""The default cache on Redis, degrading instead of failing while Redis is unreachable.

Everything the cache holds can be done without it: a lookup falls through to the database
(a miss), a write is dropped, and a rate-limit counter lets the request through (`add`
answers "added", `incr` answers a fresh count). Each degraded call is logged (at most every
`LOG_EVERY` seconds per process) and counted for `/metrics`
(`referral_platform_cache_degraded_total{op=...}`). After a failure the process leaves Redis
alone for `RETRY_AFTER` seconds, so an unreachable host costs one timeout, not one per call.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter

from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

RETRY_AFTER = 1.0
LOG_EVERY = 10.0

degraded: Counter = Counter()
_state = {"down_until": 0.0, "logged_at": 0.0}
_lock = threading.Lock()


class _Down(Exception):
    pass


def _failed(op: str, exc: Exception | None) -> None:
    now = time.monotonic()
    with _lock:
        degraded[op] += 1
        if exc is not None:
            _state["down_until"] = now + RETRY_AFTER
        if now - _state["logged_at"] >= LOG_EVERY:
            _state["logged_at"] = now
            logger.warning(
                "cache unreachable, degrading (%s): %s",
                op,
                exc or "still down",
                extra={"event": "cache_degraded"},
            )


def _guarded(op: str, fallback):
    def call(self, *args, **kwargs):
        if time.monotonic() < _state["down_until"]:
            _failed(op, None)
            return fallback(*args, **kwargs)
        try:
            return getattr(super(ResilientRedisCache, self), op)(*args, **kwargs)
        except RedisError as exc:
            _failed(op, exc)
            return fallback(*args, **kwargs)

    call.__name__ = op
    return call


def _default(key, default=None, **_kw):
    return default


class ResilientRedisCache(RedisCache):
    get = _guarded("get", _default)
    get_many = _guarded("get_many", lambda *a, **k: {})
    has_key = _guarded("has_key", lambda *a, **k: False)
    set = _guarded("set", lambda *a, **k: None)
    set_many = _guarded("set_many", lambda keys, *a, **k: list(keys))
    # "Added": a lock or a first-in-window counter goes ahead, as if the key were new.
    add = _guarded("add", lambda *a, **k: True)
    # A counter that cannot be read starts again: the request is let through.
    incr = _guarded("incr", lambda key, delta=1, **k: delta)
    touch = _guarded("touch", lambda *a, **k: False)
    delete = _guarded("delete", lambda *a, **k: False)
    delete_many = _guarded("delete_many", lambda *a, **k: None)
    clear = _guarded("clear", lambda *a, **k: False)
