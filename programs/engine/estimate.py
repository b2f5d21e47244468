"""The cost estimator: expected reward cost from expected volumes and conversion rates. Pure."""

from __future__ import annotations

from collections.abc import Mapping

from .rewards import item_value
from .types import RewardDecision


def expected_value(values: Mapping, spec: Mapping) -> int:
    """What one item is expected to cost, in minor units: a coupon at its expected redemption
    (`estimates.coupon_redemption_percent` of its value; a percent coupon takes its percent of
    `estimates.average_order`, up to its cap), everything else at `item_value`."""
    estimates = spec.get("estimates") or {}
    value = item_value(values, spec)
    if values.get("kind") != "coupon":
        return value
    average = estimates.get("average_order")
    if values.get("percent_off") is not None and average is not None:
        value = average * values["percent_off"] // 100
        if values.get("max_amount"):
            value = min(value, values["max_amount"])
    if values.get("min_spend") and average is not None and average < values["min_spend"]:
        return 0
    return value * estimates.get("coupon_redemption_percent", 100) // 100


def decision_cost(decision: RewardDecision, spec: Mapping) -> int:
    """`expected_value` of an earned reward (its current values: default or chosen option)."""
    values = {
        "kind": decision.kind,
        "amount": decision.amount_minor,
        "points": decision.points,
        **{k: v for k, v in decision.details.items() if k != "default_option"},
    }
    return expected_value(values, spec)


def default_stage_rates(spec: Mapping) -> dict[str, int]:
    """Percent of referrals reaching each stage when the marketer has not said: every
    sign-up, half of the stages between, 30 % of the success and after."""
    return {
        s["key"]: 100 if s["condition"]["event"] == "signup" else (30 if s.get("success") else 50)
        for s in spec["stages"]
    }


def estimate_cost(spec: Mapping, *, monthly_referrals: int, stage_rates: Mapping[str, int]) -> dict:
    """`stage_rates`: percent of referrals reaching each stage; a stage is never reached more
    often than the one before it (its rate is capped at the previous one). Items count at
    their default option's `expected_value` (coupons at their expected redemption); tiers,
    seasons, lotteries and boosts are left out and said so. Amounts in minor units."""
    per_stage = []
    total = {"referrer": 0, "referee": 0}
    successes = 0
    previous = 100
    for stage in spec["stages"]:
        rate = max(0, min(previous, int(stage_rates.get(stage["key"], 0))))
        previous = rate
        reached = monthly_referrals * rate // 100
        if stage.get("success"):
            successes = reached
        cost = {"referrer": 0, "referee": 0}
        for item in stage.get("rewards") or ():
            values = item
            if item.get("options"):
                values = next(o for o in item["options"] if o["key"] == item.get("default_option"))
            cost[item["side"]] += expected_value(values, spec) * reached
        if stage.get("success") and spec.get("charity"):
            cost["referrer"] += spec["charity"]["amount"] * reached
        for side in total:
            total[side] += cost[side]
        per_stage.append(
            {
                "key": stage["key"],
                "label": stage.get("label") or stage["key"],
                "rate": rate,
                "reached": reached,
                **cost,
            }
        )
    monthly = total["referrer"] + total["referee"]
    return {
        "stages": per_stage,
        "referrer": total["referrer"],
        "referee": total["referee"],
        "monthly_cost": monthly,
        "successes": successes,
        "cost_per_referred_customer": monthly // successes if successes else None,
        "currency": spec["currency"],
    }
