"""Reads made once per unit of work.

Inside `memo_scope()` (a chunk of events: `pipeline.flow`), `once(key, read)` reads the first
time and hands back the same answer after that; outside a scope it always reads. Only what
staff change and the work itself never writes belongs here: a tenant's webhook endpoints, its
fraud policy and blocklist, the codes flagged as leaked, a program version's rules (versions
never change). The chunk commits as one transaction, so it reads them as they stood when it
began, as if it had run a moment earlier. Answers are shared: callers must not change them.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from typing import TypeVar

T = TypeVar("T")

_memo: contextvars.ContextVar[dict | None] = contextvars.ContextVar("memo", default=None)


@contextmanager
def memo_scope() -> Iterator[None]:
    token = _memo.set({})
    try:
        yield
    finally:
        _memo.reset(token)


def once(key: Hashable, read: Callable[[], T]) -> T:
    memo = _memo.get()
    if memo is None:
        return read()
    if key not in memo:
        memo[key] = read()
    return memo[key]
