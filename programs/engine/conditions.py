"""The condition language of a spec: leaves `{field, op, value}` and `{segment}`, combined with
`all` / `any` / `not`. Fields are dotted paths into a context dict; missing fields compare false
(except `falsy`, which a missing field satisfies, so "no refund in progress" holds by default)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta


def lookup(context: Mapping, path: str):
    value = context
    for part in path.split("."):
        if isinstance(value, Mapping) and part in value:
            value = value[part]
        else:
            return _MISSING
    return value


class _Missing:
    def __bool__(self) -> bool:
        return False


_MISSING = _Missing()


def _as_datetime(value) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        return parsed if parsed.tzinfo else None
    return None


def _compare(op: str, left, right) -> bool:
    try:
        if op == "eq":
            return left == right
        if op == "ne":
            return left != right
        if op == "gt":
            return left > right
        if op == "gte":
            return left >= right
        if op == "lt":
            return left < right
        if op == "lte":
            return left <= right
    except TypeError:
        return False
    raise ValueError(op)


def matches(condition: Mapping | None, context: Mapping, *, now: datetime | None = None) -> bool:
    if not condition:
        return True
    if "all" in condition:
        return all(matches(c, context, now=now) for c in condition["all"])
    if "any" in condition:
        return any(matches(c, context, now=now) for c in condition["any"])
    if "not" in condition:
        return not matches(condition["not"], context, now=now)
    if "segment" in condition:
        owner = context.get(condition["of"], {}) if condition.get("of") else context
        return condition["segment"] in (owner.get("segments") or ())
    op = condition["op"]
    value = lookup(context, condition["field"])
    if op == "exists":
        return value is not _MISSING and value is not None
    if op == "truthy":
        return bool(value)
    if op == "falsy":
        return not value
    if value is _MISSING or value is None:
        return False
    if op == "in":
        return value in (condition.get("value") or ())
    if op == "not_in":
        return value not in (condition.get("value") or ())
    if op in ("days_since_gte", "days_since_lte"):
        moment = _as_datetime(value)
        if moment is None or now is None:
            return False
        elapsed = now - moment
        limit = timedelta(days=condition["value"])
        return elapsed >= limit if op == "days_since_gte" else elapsed <= limit
    return _compare(op, value, condition.get("value"))


def failing_rules(rules, context: Mapping, *, now: datetime | None = None) -> list[str]:
    return [rule["key"] for rule in rules or () if not matches(rule["when"], context, now=now)]
