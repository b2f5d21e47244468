"""The cost estimator: expected reward cost from expected volumes and conversion rates. Pure."""

from __future__ import annotations

from collections.abc import Mapping

from .rewards import item_value


def default_stage_rates(spec: Mapping) -> dict[str, int]:
    """Percent of referrals reaching each stage when the marketer has not said: every
    sign-up, half of the stages between, 30 % of the success and after."""
    return {
        s["key"]: 100 if s["condition"]["event"] == "signup" else (30 if s.get("success") else 50)
        for s in spec["stages"]
    }


def estimate_cost(spec: Mapping, *, monthly_referrals: int, stage_rates: Mapping[str, int]) -> dict:
    """`stage_rates`: percent of referrals reaching each stage. Items count at their default
    option's value (the most expensive one for caps would overstate the expected cost); tiers,
    seasons, lotteries and boosts are left out and said so. Amounts in minor units."""
    per_stage = []
    total = {"referrer": 0, "referee": 0}
    successes = 0
    for stage in spec["stages"]:
        rate = max(0, min(100, int(stage_rates.get(stage["key"], 0))))
        reached = monthly_referrals * rate // 100
        if stage.get("success"):
            successes = reached
        cost = {"referrer": 0, "referee": 0}
        for item in stage.get("rewards") or ():
            values = item
            if item.get("options"):
                values = next(o for o in item["options"] if o["key"] == item.get("default_option"))
            cost[item["side"]] += item_value(values, spec) * reached
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
