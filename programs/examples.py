"""A program's default simulator example, derived from its spec: one friend who reaches every
stage in order, with the event amounts and properties each stage asks for, and a referrer
whose attributes pass the conditions of its rewards. Pure."""

from __future__ import annotations

from collections.abc import Mapping

from referral_platform.core.money import to_major


def satisfy(condition: Mapping | None) -> dict:
    """Field values that make `condition` hold (first branch of an `any`; `not` and tests
    that hold when a field is absent are left alone)."""
    if not condition:
        return {}
    if "all" in condition:
        out: dict = {}
        for child in condition["all"]:
            out.update(satisfy(child))
        return out
    if "any" in condition:
        return satisfy(condition["any"][0]) if condition["any"] else {}
    if "not" in condition or "segment" in condition:
        return {}
    op, value = condition["op"], condition.get("value")
    chosen = {
        "eq": value, "gte": value, "lte": value, "truthy": True, "exists": 1,
        "gt": value + 1 if isinstance(value, (int, float)) else None,
        "lt": value - 1 if isinstance(value, (int, float)) else None,
        "in": value[0] if isinstance(value, list) and value else None,
    }.get(op)  # fmt: skip
    return {} if chosen is None else {condition["field"]: chosen}


def _token(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def example_inputs(spec: Mapping) -> tuple[str, dict]:
    """(script, referrer attributes) for `simulate`."""
    wanted: dict = {}
    for stage in spec["stages"]:
        for item in stage.get("rewards") or ():
            wanted.update(satisfy(item.get("when")))
    attributes = {k[len("referrer.") :]: v for k, v in wanted.items() if k.startswith("referrer.")}
    first_props: dict[str, dict] = {}
    for key, value in wanted.items():
        if key.startswith("first."):
            _first, event_type, name = key.split(".", 2)
            first_props.setdefault(event_type, {})[name] = value
    average = (spec.get("estimates") or {}).get("average_order")
    lines = ["friend 0 signup"]
    day = 0
    for stage in spec["stages"]:
        condition = stage["condition"]
        if condition["event"] == "signup":
            continue
        day += 1
        props = {**first_props.get(condition["event"], {}), **satisfy(condition.get("properties"))}
        amount = condition.get("min_amount")
        if amount is None and condition["event"] == "purchase":
            amount = average
        words = [f"friend {day} {condition['event']}"]
        if amount is not None:
            words.append(str(to_major(amount, spec["currency"])))
        words += [f"{k}={_token(v)}" for k, v in props.items()]
        lines += [" ".join(words)] * condition.get("count", 1)
    return "\n".join(lines), attributes
