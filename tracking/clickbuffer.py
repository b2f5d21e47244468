"""Clicks written in bulk. The redirect appends a row to a Redis list (no database round
trip); `flush()` moves them into the Click table with one INSERT per few hundred rows. It
runs as a periodic job, and before attribution so a fresh click id is always found.

Without Redis (the embedded default, tests) the redirect writes its one row directly.
"""

from __future__ import annotations

import json
import os
from datetime import datetime

from django.conf import settings

KEY = "tracking:clicks"
FLUSH_CHUNK = 500


def buffer_url() -> str:
    """Opt-in: a Redis URL (e.g. `redis://127.0.0.1:6379/2`) from settings or the environment."""
    return getattr(settings, "TRACKING_CLICK_BUFFER_URL", "") or os.environ.get(
        "TRACKING_CLICK_BUFFER_URL", ""
    )


def _redis():
    url = buffer_url()
    if not url:
        return None
    import redis

    client = getattr(_redis, "_client", None)
    if client is None or getattr(_redis, "_url", None) != url:
        client = redis.Redis.from_url(url, socket_timeout=1)
        _redis._client, _redis._url = client, url
    return client


def enabled() -> bool:
    return bool(buffer_url())


def push(row: dict) -> bool:
    """Queue a click; False if the buffer is unreachable (the caller writes it itself)."""
    client = _redis()
    if client is None:
        return False
    try:
        client.rpush(KEY, json.dumps(row, separators=(",", ":")))
    except Exception:  # noqa: BLE001 - any Redis failure means "write it directly"
        return False
    return True


def write_rows(rows: list[dict]) -> int:
    from .models import Click

    clicks = [
        Click(**{**row, "created_at": datetime.fromisoformat(row["created_at"])}) for row in rows
    ]
    # A row pushed twice (a retried flush) must not fail the batch: the ULID is the key.
    Click.unscoped.bulk_create(clicks, ignore_conflicts=True)
    return len(clicks)


def flush(limit: int = 50_000) -> int:
    client = _redis()
    if client is None:
        return 0
    written = 0
    while written < limit:
        # LPOP with a count (Redis ≥ 6.2): one round trip per chunk.
        raw = client.lpop(KEY, FLUSH_CHUNK)
        if not raw:
            break
        try:
            written += write_rows([json.loads(item) for item in raw])
        except Exception:
            # Put them back for the next flush rather than lose them.
            client.rpush(KEY, *raw)
            raise
    return written
