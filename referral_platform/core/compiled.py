"""Hot reads whose SQL the ORM builds once per process.

Building a queryset and compiling it to SQL costs a few hundred microseconds of Python: more
than PostgreSQL takes to answer a read by index, and most of an event's processing time.
`@compiled` turns a function that builds a queryset from keyword arguments into a read that
builds and compiles it once per *shape* (which arguments are lists, and how long) with
stand-in values, keeps the SQL, and runs it again with the real values through the ORM's own
iterables: the rows come back as the queryset would return them (model instances with their
`select_related` rows, values, flat values), the fields' converters applied.

    @compiled
    def referral_rows(*, tenant_id, referee_id):
        return Referral.objects.for_tenant(tenant_id).filter(referee_id=referee_id)

    referrals = referral_rows(tenant_id=1, referee_id=7)   # a list

The arguments are plain values (ints, strings, datetimes, booleans, or lists of ints and
strings): each must reach the SQL as a parameter, unchanged, or the first call says which one
did not. A `None`, an empty or a long list, or a value of another kind (a queryset) runs the
ORM as usual, uncompiled.
"""

from __future__ import annotations

import copy
import datetime as dt
import threading
from collections.abc import Callable
from typing import Any

from django.db import connections
from django.db.models import QuerySet
from django.db.transaction import TransactionManagementError

# Past this many values a list is read as usual: one compiled shape per length is kept.
LONGEST_LIST = 64

_EPOCH = dt.datetime(1001, 1, 1, tzinfo=dt.UTC)


class NotCompilable(TypeError):
    """An argument does not reach the SQL as a parameter of its own."""


class _StandIns:
    """Values no caller passes, one per argument (and per list item), recognisable among the
    compiled query's parameters."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, value: Any) -> Any:
        self.count += 1
        n = self.count
        if isinstance(value, bool):
            return value  # two values: part of the shape, not a parameter
        if isinstance(value, int):
            return -(2**62) - n
        if isinstance(value, str):
            return f"\x1ecompiled-stand-in-{n}\x1e"
        if isinstance(value, dt.datetime):
            return _EPOCH + dt.timedelta(microseconds=n)
        raise NotCompilable(f"{type(value).__name__} values are not compiled")


_PLAIN = (int, str, dt.datetime)


def _shape(values: dict[str, Any], fixed: frozenset[str]) -> tuple | None:
    """What the compiled SQL depends on; None when the call is read uncompiled (a `None`, an
    empty or long list, a value of another kind: a queryset, say)."""
    shape = []
    for name, value in sorted(values.items()):
        if name in fixed or isinstance(value, bool):
            shape.append((name, value))
        elif isinstance(value, _PLAIN):
            shape.append((name, None))
        elif isinstance(value, list | tuple | set | frozenset):
            if not value or len(value) > LONGEST_LIST:
                return None
            if not all(isinstance(item, _PLAIN) and not isinstance(item, bool) for item in value):
                return None
            shape.append((name, len(value)))
        else:
            return None
    return tuple(shape)


class _Entry:
    __slots__ = ("queryset", "compiler", "sql", "slots", "converters")

    def __init__(self, queryset, compiler, sql: str, slots: list) -> None:
        self.queryset, self.compiler, self.sql, self.slots = queryset, compiler, sql, slots
        # The fields' converters depend on the columns and the backend, not on the values.
        self.converters = compiler.get_converters(
            [column for column, *_rest in compiler.select[: compiler.col_count]]
        )


class CompiledRead:
    def __init__(self, build: Callable[..., QuerySet], fixed: tuple[str, ...] = ()) -> None:
        self.build = build
        self.fixed = frozenset(fixed)
        self.__doc__ = build.__doc__
        self.__name__ = getattr(build, "__name__", "compiled")
        self._entries: dict[tuple, _Entry] = {}
        self._lock = threading.Lock()

    def __call__(self, **values: Any) -> list:
        shape = _shape(values, self.fixed)
        if shape is None:
            return list(self.build(**values))
        entry = self._entries.get(shape)
        connection = connections[entry.queryset.db] if entry else None
        if entry is None or connection.vendor != entry.compiler.connection.vendor:
            entry = self._compile(shape, values)
            connection = connections[entry.queryset.db]
        adapt = connection.ops.adapt_datetimefield_value
        lists = {
            name: value if isinstance(value, list | tuple) else list(value)
            for name, value in values.items()
            if isinstance(value, list | tuple | set | frozenset)
        }
        params = []
        for kind, slot in entry.slots:
            if kind == "const":
                params.append(slot)
            elif kind == "value":
                params.append(values[slot])
            elif kind == "item":
                params.append(lists[slot[0]][slot[1]])
            else:  # "datetime", sent as text
                params.append(adapt(values[slot]))
        return self._run(entry, connection, tuple(params))

    def _compile(self, key: tuple, values: dict[str, Any]) -> _Entry:
        stand_in = _StandIns()
        stand_ins: dict[str, Any] = {}
        where: dict[Any, tuple] = {}
        for name, value in values.items():
            if name in self.fixed:
                stand_ins[name] = value  # shapes the SQL (a slice bound): one compilation each
            elif isinstance(value, list | tuple | set | frozenset):
                items = [stand_in(item) for item in value]
                stand_ins[name] = items
                where.update({item: ("item", (name, i)) for i, item in enumerate(items)})
            else:
                stand_ins[name] = stand_in(value)
                if not isinstance(value, bool):
                    where[stand_ins[name]] = ("value", name)
        try:
            queryset = self.build(**stand_ins)
        except (TypeError, ValueError) as exc:
            raise NotCompilable(
                f"{self.__name__} cannot be built with stand-in values ({exc}): "
                "a slice bound is passed as `fixed`"
            ) from exc
        compiler = queryset.query.get_compiler(using=queryset.db)
        adapt = compiler.connection.ops.adapt_datetimefield_value
        for name, value in stand_ins.items():
            if isinstance(value, dt.datetime):
                # A backend that sends datetimes as text (SQLite) adapts each one.
                where.setdefault(adapt(value), ("datetime", name))
        sql, params = compiler.as_sql()
        slots = [_slot(where, param) for param in params]
        reached = {
            ("value", slot) if kind == "datetime" else (kind, slot)
            for kind, slot in slots
            if kind != "const"
        }
        missing = {slot for slot in where.values() if slot[0] != "datetime"} - reached
        if missing:
            names = sorted({slot if kind == "value" else slot[0] for kind, slot in missing})
            raise NotCompilable(
                f"{self.__name__}: {', '.join(names)} did not reach the SQL as a parameter "
                "(a lookup that changes the value, or a slice bound)"
            )
        entry = _Entry(queryset, compiler, sql, slots)
        with self._lock:
            self._entries[key] = entry
        return entry

    @staticmethod
    def _run(entry: _Entry, connection, params: tuple) -> list:
        queryset = entry.queryset._chain()
        query = queryset.query
        locking = query.select_for_update and connection.features.has_select_for_update
        if locking and connection.get_autocommit():
            raise TransactionManagementError(
                "select_for_update cannot be used outside of a transaction."
            )
        replay = copy.copy(entry.compiler)
        replay.connection = connection  # this thread's connection
        sql = entry.sql
        replay.as_sql = lambda *args, **kwargs: (sql, params)
        converters = entry.converters
        replay.get_converters = lambda expressions: converters
        query.get_compiler = lambda *args, **kwargs: replay
        return list(queryset)


def _slot(where: dict, param: Any) -> tuple:
    try:
        return where.get(param, ("const", param))
    except TypeError:  # an unhashable constant (a JSON value, an array)
        return ("const", param)


def compiled(build: Callable[..., QuerySet] | None = None, *, fixed: tuple[str, ...] = ()):
    """`@compiled`, or `@compiled(fixed=("limit",))` for arguments that shape the SQL itself
    (a slice bound, a constant a test changes): compiled once for each value they take."""
    if build is None:
        return lambda build: CompiledRead(build, fixed)
    return CompiledRead(build, fixed)
