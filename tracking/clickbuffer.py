"""Clicks written in bulk. The redirect appends its row to an in-process list (no network
round trip at all); a background thread of each web process ships that list to a Redis list
every half second in one RPUSH; `flush()` moves the Redis list into the Click table with one
INSERT per few hundred rows. `flush()` runs as a periodic job and before attribution, so a
click id is found at most about a second after the click. If Redis is unreachable the
thread writes its batch to the database itself: slower, never lost.

Without a buffer URL (the embedded default, tests) the redirect writes its one row directly.
"""

from __future__ import annotations

import atexit
import json
import logging
import threading
from datetime import datetime

from django.conf import settings

logger = logging.getLogger(__name__)

KEY = "tracking:clicks"
FLUSH_CHUNK = 500
SHIP_SECONDS = 0.5

_pending: list[dict] = []  # rows; JSON is made by the shipper thread, off the request
_lock = threading.Lock()
_wake = threading.Event()
_shipper: threading.Thread | None = None


def buffer_url() -> str:
    """Opt-in: the `TRACKING_CLICK_BUFFER_URL` setting, a Redis URL (empty: off)."""
    return settings.TRACKING_CLICK_BUFFER_URL


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
    """Queue a click in this process; False if no buffer is configured (write it directly)."""
    global _shipper
    if not enabled():
        return False
    with _lock:
        _pending.append(row)
        # Started lazily so each forked web worker gets its own thread.
        if _shipper is None or not _shipper.is_alive():
            _shipper = threading.Thread(target=_ship_forever, name="click-shipper", daemon=True)
            _shipper.start()
        if len(_pending) >= FLUSH_CHUNK:
            _wake.set()
    return True


def _take() -> list[dict]:
    global _pending
    with _lock:
        batch, _pending = _pending, []
    return batch


def ship(*, own_connection: bool = False) -> int:
    """Send this process's queued clicks to Redis in one call (or to the database)."""
    batch = _take()
    if not batch:
        return 0
    try:
        _redis().rpush(KEY, *(json.dumps(row, separators=(",", ":")) for row in batch))
    except Exception:  # noqa: BLE001 - Redis down: the clicks still have to land somewhere
        logger.warning("click buffer unreachable; writing %s clicks directly", len(batch))
        try:
            write_rows(batch)
        finally:
            if own_connection:
                # The shipper thread's own connection; never the request's.
                from django.db import connection

                connection.close()
    return len(batch)


def _ship_forever() -> None:
    while True:
        _wake.wait(SHIP_SECONDS)
        _wake.clear()
        try:
            ship(own_connection=True)
        except Exception:  # noqa: BLE001 - keep the thread alive; the next round retries
            logger.exception("shipping clicks failed")


atexit.register(ship)


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
    ship()
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
