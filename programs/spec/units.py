"""Which numbers of a spec are money (integer minor units of the program's currency), listed
for the advanced JSON view, and the amounts that look typed in major units by mistake."""

from __future__ import annotations

from collections.abc import Iterator

from referral_platform.core.money import exponent

# Keys whose integer value is always money in minor units, wherever they appear.
MONEY_KEYS = frozenset(
    {
        "amount",
        "max_amount",
        "min_spend",
        "min_amount",
        "estimated_value",
        "average_order",
        "budget",
        "referee_discount_cap",
        "per_referrer_limit",
    }
)
# Kinds whose `amount` is paid out as money (a ¥0.50 cash reward is almost always a typo).
CASH_KINDS = frozenset({"cash", "credit", "coupon"})


def money_paths(value) -> Iterator[tuple[str, int]]:
    """(`stages[0].rewards[1].amount`, 5000) for every money number in `value`, including an
    amount cap's `limit`."""
    return _numbers(value, is_money)


def is_money(key, parent: dict) -> bool:
    """Whether `parent[key]` is money: a money key, or the limit of an amount cap."""
    return key in MONEY_KEYS or (key == "limit" and parent.get("measure") == "amount")


def points_paths(value) -> Iterator[tuple[str, int]]:
    """(`stages[0].rewards[0].points`, 300) for every number of points an item gives."""
    return _numbers(value, lambda key, parent: key == "points")


def _numbers(value, wanted, path: str = "") -> Iterator[tuple[str, int]]:
    if isinstance(value, dict):
        for key, child in value.items():
            child_path = f"{path}.{key}" if path else key
            if wanted(key, value) and isinstance(child, int) and not isinstance(child, bool):
                yield child_path, child
            else:
                yield from _numbers(child, wanted, child_path)
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _numbers(child, wanted, f"{path}[{index}]")


def _items(value, path: str = "") -> Iterator[tuple[str, dict]]:
    if isinstance(value, dict):
        if "kind" in value and "amount" in value:
            yield path, value
        for key, child in value.items():
            yield from _items(child, f"{path}.{key}" if path else key)
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _items(child, f"{path}[{index}]")


def suspicious_amounts(spec: dict) -> list[tuple[str, int]]:
    """Cash, credit and coupon amounts under one major unit (fewer than 100 fen): most likely
    typed as yuan into a field that takes fen."""
    one = 10 ** exponent(spec.get("currency") or "CNY")
    if one == 1:
        return []
    return [
        (f"{path}.amount", item["amount"])
        for path, item in _items(spec)
        if item.get("kind") in CASH_KINDS
        and isinstance(item.get("amount"), int)
        and 0 < item["amount"] < one
    ]
