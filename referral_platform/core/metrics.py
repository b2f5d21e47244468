"""A tiny registry of gauges collected at scrape time. Apps add collectors in `metrics.py`."""

from __future__ import annotations

from collections.abc import Callable, Iterable

# A collector yields (name, help, labels dict, value).
Collector = Callable[[], Iterable[tuple[str, str, dict, float]]]
_COLLECTORS: list[Collector] = []


def register_collector(func: Collector) -> Collector:
    _COLLECTORS.append(func)
    return func


def _labels(labels: dict) -> str:
    if not labels:
        return ""
    inner = ",".join(f'{k}="{str(v).replace(chr(34), "")}"' for k, v in sorted(labels.items()))
    return "{" + inner + "}"


def render_metrics() -> str:
    from django.utils.module_loading import autodiscover_modules

    autodiscover_modules("metrics")
    lines: list[str] = []
    seen: set[str] = set()
    for collector in _COLLECTORS:
        for name, help_text, labels, value in collector():
            if name not in seen:
                lines.append(f"# HELP {name} {help_text}")
                lines.append(f"# TYPE {name} gauge")
                seen.add(name)
            lines.append(f"{name}{_labels(labels)} {value}")
    lines.append("")
    return "\n".join(lines)


@register_collector
def _up():
    yield "referral_platform_up", "The web process answers.", {}, 1


@register_collector
def _cache_degraded():
    """Cache calls answered without Redis (`core.cache`), per operation, in this process."""
    from .cache import degraded

    for op, count in sorted(degraded.items()):
        yield (
            "referral_platform_cache_degraded_total",
            "Cache calls this process answered without Redis (a miss, a dropped write, "
            "a rate limit let through).",
            {"op": op},
            count,
        )


@register_collector
def _db_conflict_retries():
    """Transactions PostgreSQL aborted as deadlock victims or serialization failures, retried
    or given up (`core.retry`), per service, in this process."""
    from .retry import retries

    for (op, outcome), count in sorted(retries.items()):
        yield (
            "referral_platform_db_conflict_retries_total",
            "Transactions aborted by a deadlock or a serialization failure that this process "
            "ran again (outcome=retried) or gave up on (outcome=gave_up).",
            {"op": op, "outcome": outcome},
            count,
        )


def _queue_names() -> list[str]:
    from django.conf import settings

    names = {getattr(settings, "CELERY_TASK_DEFAULT_QUEUE", None) or "celery"}
    for route in (getattr(settings, "CELERY_TASK_ROUTES", None) or {}).values():
        if isinstance(route, dict) and route.get("queue"):
            names.add(route["queue"])
    names.update(getattr(settings, "CELERY_METRICS_QUEUES", []) or [])
    return sorted(names)


@register_collector
def _celery_queue_depth():
    """Messages waiting in each Celery queue on Redis (a Redis list per queue)."""
    from django.conf import settings

    if not settings.REDIS_URL:
        return
    import redis

    try:
        client = redis.Redis.from_url(settings.CELERY_BROKER_URL, socket_timeout=2)
        depths = [(name, client.llen(name)) for name in _queue_names()]
    except redis.RedisError:
        yield "referral_platform_broker_up", "The Celery broker answers.", {}, 0
        return
    yield "referral_platform_broker_up", "The Celery broker answers.", {}, 1
    for name, depth in depths:
        yield (
            "referral_platform_celery_queue_depth",
            "Tasks waiting in a Celery queue.",
            {"queue": name},
            depth,
        )
