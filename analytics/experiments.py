"""Experiments and holdouts: results per variant, the two-proportion z-test, the winner
folded into a new program version, and the difference of means a holdout is read with.

Assignment and the spec a variant makes belong to the program engine
(`programs.engine.experiments`), the holdout's membership to `programs.holdout`; this module
reads what tracking stored with them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from statistics import NormalDist

from django.db.models import Min

from programs.engine import spec_for_variants, variants_decode
from programs.engine.estimate import expected_value
from referral_platform.core import calendar

from .kpis import reward_value

# --- statistics -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Comparison:
    """Variant B against control A: difference of rates (B − A), its confidence interval
    (unpooled standard error), the pooled z statistic and its two-sided p-value."""

    rate_a: float
    rate_b: float
    difference: float
    ci_low: float
    ci_high: float
    z: float
    p_value: float
    significant: bool


def two_proportion_z_test(
    conversions_a: int, n_a: int, conversions_b: int, n_b: int, *, confidence: float = 0.95
) -> Comparison | None:
    if n_a <= 0 or n_b <= 0:
        return None
    p_a, p_b = conversions_a / n_a, conversions_b / n_b
    pooled = (conversions_a + conversions_b) / (n_a + n_b)
    se_pooled = math.sqrt(pooled * (1 - pooled) * (1 / n_a + 1 / n_b))
    se = math.sqrt(p_a * (1 - p_a) / n_a + p_b * (1 - p_b) / n_b)
    diff = p_b - p_a
    z = diff / se_pooled if se_pooled else 0.0
    p_value = 2 * (1 - NormalDist().cdf(abs(z)))
    critical = NormalDist().inv_cdf(1 - (1 - confidence) / 2)
    return Comparison(
        rate_a=p_a,
        rate_b=p_b,
        difference=diff,
        ci_low=diff - critical * se,
        ci_high=diff + critical * se,
        z=z,
        p_value=p_value,
        significant=p_value < (1 - confidence),
    )


# Below this many members in either group the normal approximation of a difference of
# means is not to be trusted: the report says the sample is too small instead.
MIN_GROUP = 30


@dataclass(frozen=True)
class MeanDifference:
    """Treated minus held-out mean per member, with its confidence interval (Welch's
    unpooled standard error, normal approximation)."""

    treated_mean: float
    held_out_mean: float
    difference: float
    ci_low: float
    ci_high: float
    too_small: bool  # fewer than MIN_GROUP members on a side: nothing can be said
    significant: bool  # the interval excludes 0


def mean_difference(
    treated: list[float], held_out: list[float], *, confidence: float = 0.95
) -> MeanDifference | None:
    """Per-member values of both groups (e.g. referred customers each member brought)."""
    n_t, n_h = len(treated), len(held_out)
    if not n_t or not n_h:
        return None
    mean_t, mean_h = sum(treated) / n_t, sum(held_out) / n_h

    def variance(values: list[float], mean: float) -> float:
        return sum((v - mean) ** 2 for v in values) / (len(values) - 1) if len(values) > 1 else 0.0

    se = math.sqrt(variance(treated, mean_t) / n_t + variance(held_out, mean_h) / n_h)
    critical = NormalDist().inv_cdf(1 - (1 - confidence) / 2)
    diff = mean_t - mean_h
    low, high = diff - critical * se, diff + critical * se
    too_small = min(n_t, n_h) < MIN_GROUP
    return MeanDifference(
        treated_mean=mean_t,
        held_out_mean=mean_h,
        difference=diff,
        ci_low=low,
        ci_high=high,
        too_small=too_small,
        significant=not too_small and (low > 0 or high < 0),
    )


# --- the winner -----------------------------------------------------------------------------


def spec_with_winner(spec: Mapping, experiment_key: str, variant_key: str) -> dict:
    """The spec with the winning variant's `overrides` applied and the experiment removed."""
    experiments = spec.get("experiments") or []
    experiment = next((e for e in experiments if e["key"] == experiment_key), None)
    if experiment is None:
        raise KeyError(experiment_key)
    if not any(v["key"] == variant_key for v in experiment["variants"]):
        raise KeyError(variant_key)
    out = spec_for_variants(spec, {experiment_key: variant_key})
    out["experiments"] = [e for e in experiments if e["key"] != experiment_key]
    if not out["experiments"]:
        del out["experiments"]
    return out


# --- results from the rows ------------------------------------------------------------------


def _variant_of(stored: str, experiment_key: str) -> str:
    """The variant of `experiment_key` in a stored `Referral`/`Enrollment.variant` ("" if none)."""
    return variants_decode(stored).get(experiment_key, "")


def experiment_results(*, tenant, program, experiment_key: str, start: date, end: date) -> dict:
    """Per variant: exposed, converted, conversion rate, reward cost and cost per
    conversion; each variant against the first (the control) with the z-test."""
    from rewards.models import Reward, RewardStatus
    from tracking.models import Enrollment, Referral, ReferralStage, ReferralStatus

    spec = program.spec or {}
    experiment = next(
        (e for e in spec.get("experiments") or [] if e["key"] == experiment_key), None
    )
    if experiment is None:
        return {"experiment": experiment_key, "variants": [], "comparisons": []}
    keys = [v["key"] for v in experiment["variants"]]
    labels = {v["key"]: v.get("label") or v["key"] for v in experiment["variants"]}
    lo, hi = calendar.date_range_bounds(start, end, tenant.calendar)
    exposed = dict.fromkeys(keys, 0)
    converted = dict.fromkeys(keys, 0)
    cost = dict.fromkeys(keys, 0)
    referrals = (
        Referral.objects.for_tenant(tenant)
        .filter(program=program, created_at__gte=lo, created_at__lt=hi)
        .exclude(status=ReferralStatus.REJECTED)
        .exclude(variant="")
    )
    variant_of_referral = {
        pk: _variant_of(v, experiment_key) for pk, v in referrals.values_list("pk", "variant")
    }
    converted_ids = set(
        ReferralStage.objects.for_tenant(tenant)
        .filter(
            referral_id__in=list(variant_of_referral),
            status_set=ReferralStatus.CONVERTED,
            reversed_at=None,
        )
        .values_list("referral_id", flat=True)
    )
    if experiment.get("side") == "referrer":
        for variant in (
            Enrollment.objects.for_tenant(tenant)
            .filter(program=program, eligible=True, created_at__lt=hi)
            .exclude(variant="")
            .values_list("variant", flat=True)
        ):
            v = _variant_of(variant, experiment_key)
            if v in exposed:
                exposed[v] += 1
        successful = (
            Referral.objects.for_tenant(tenant)
            .filter(pk__in=converted_ids)
            .values("referrer_id", "variant")
            .annotate(first=Min("pk"))
        )
        seen = set()
        for row in successful:
            v = _variant_of(row["variant"], experiment_key)
            if v in converted and row["referrer_id"] not in seen:
                seen.add(row["referrer_id"])
                converted[v] += 1
    else:
        for pk, v in variant_of_referral.items():
            if v in exposed:
                exposed[v] += 1
                converted[v] += pk in converted_ids
    point_value = spec.get("point_value")
    for r in (
        Reward.objects.for_tenant(tenant)
        .filter(referral_id__in=list(variant_of_referral))
        .exclude(fulfilled_at=None)
        .values("referral_id", "kind", "amount_minor", "points", "details", "status")
    ):
        v = variant_of_referral[r["referral_id"]]
        if v in cost and r["status"] != RewardStatus.REVERSED:
            cost[v] += reward_value(
                kind=r["kind"],
                amount_minor=r["amount_minor"],
                points=r["points"],
                details=r["details"],
                point_value=point_value,
                # An unused percent coupon at its expected value from the spec's `estimates`
                # (its percent of the average order, up to its cap, × the redemption rate).
                expected_minor=expected_value({**(r["details"] or {}), "kind": r["kind"]}, spec)
                if r["kind"] == "coupon"
                else None,
            )
    rows = [
        {
            "variant": k,
            "label": labels[k],
            "exposed": exposed[k],
            "converted": converted[k],
            "conversion_rate": converted[k] / exposed[k] if exposed[k] else None,
            "cost_minor": cost[k],
            "cost_per_conversion_minor": cost[k] // converted[k] if converted[k] else None,
        }
        for k in keys
    ]
    control = rows[0]
    comparisons = []
    for row in rows[1:]:
        result = two_proportion_z_test(
            control["converted"], control["exposed"], row["converted"], row["exposed"]
        )
        comparisons.append(
            {"variant": row["variant"], "against": control["variant"], "test": result}
        )
    return {
        "experiment": experiment_key,
        "side": experiment.get("side"),
        "currency": program.currency,
        "variants": rows,
        "comparisons": comparisons,
    }
