"""Retry a transaction PostgreSQL aborted to break a deadlock or a serialization conflict.

Rows are locked in a consistent order (`rewards.services.common._lock` sorts its keys), so
a deadlock should not happen; when one still does (two paths that lock the same rows in
another order, a foreign key's implicit share lock), PostgreSQL aborts one transaction with
`deadlock detected` (SQLSTATE 40P01) or `could not serialize access` (40001). Its work was
rolled back whole, so running it again is safe and is what the loser is meant to do.

`retry_on_conflict` wraps a service whose work is one transaction (its own `atomic`) or is
idempotent. It retries only when it is the outermost transaction: inside a caller's
transaction the abort has poisoned the caller's work too, so it lets the error through to
the outermost decorated call, which retries all of it. Each retry and each give-up is
counted for `/metrics` (`referral_platform_db_conflict_retries_total{op,outcome}`).
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections import Counter
from functools import wraps

from django.db import OperationalError, connection

logger = logging.getLogger(__name__)

# SQLSTATEs of a transaction PostgreSQL rolled back so that another could go on.
RETRYABLE = frozenset({"40P01", "40001"})
ATTEMPTS = 5
BACKOFF = 0.02  # seconds, doubled per attempt, with jitter

retries: Counter = Counter()  # (op, outcome) → count, in this process
_lock = threading.Lock()


def is_conflict(exc: BaseException) -> bool:
    """A deadlock or serialization failure, from psycopg 2 (`pgcode`) or 3 (`sqlstate`)."""
    cause = exc.__cause__ or exc
    code = getattr(cause, "pgcode", None) or getattr(cause, "sqlstate", None)
    return code in RETRYABLE


def _count(op: str, outcome: str) -> None:
    with _lock:
        retries[(op, outcome)] += 1


def retry_on_conflict(func=None, *, attempts: int = ATTEMPTS, op: str | None = None):
    """`@retry_on_conflict` or `@retry_on_conflict(attempts=3)`: run again (at most
    `attempts` times in all) when PostgreSQL aborts the call's transaction as a deadlock
    victim or a serialization failure; any other error, or the last conflict, is raised."""

    def decorate(inner):
        name = op or f"{inner.__module__}.{inner.__qualname__}"

        @wraps(inner)
        def wrapper(*args, **kwargs):
            if connection.in_atomic_block:
                return inner(*args, **kwargs)
            for attempt in range(1, attempts + 1):
                try:
                    return inner(*args, **kwargs)
                except OperationalError as exc:
                    if not is_conflict(exc) or connection.in_atomic_block:
                        raise
                    if attempt == attempts:
                        _count(name, "gave_up")
                        logger.error(
                            "transaction conflict, gave up after %s attempts (%s): %s",
                            attempts,
                            name,
                            exc,
                            extra={"event": "db_conflict_gave_up"},
                        )
                        raise
                    _count(name, "retried")
                    logger.warning(
                        "transaction conflict, retrying (%s, attempt %s): %s",
                        name,
                        attempt,
                        exc,
                        extra={"event": "db_conflict_retried"},
                    )
                    time.sleep(BACKOFF * 2 ** (attempt - 1) * (0.5 + random.random()))  # noqa: S311
            raise AssertionError("unreachable")  # pragma: no cover

        return wrapper

    return decorate(func) if func is not None else decorate
