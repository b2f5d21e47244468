"""Experiments and holdouts: stable assignment, the two-proportion z-test, results per
variant, and the winner folded into a new program version.

`assign_variant` and `in_holdout` are pure and cheap so tracking and programs can call them
on the hot path (enrollment, first touch); the statistics are pure and tested against
reference values.
"""

from __future__ import annotations

import copy
import hashlib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from statistics import NormalDist

from django.db.models import Min

from referral_platform.core import calendar

from .kpis import reward_value

# 12 hex digits (48 bits), as `programs.engine.period.assign_variant` hashes: with the
# experiment key as the seed, both helpers give every participant the same variant.
_HASH_DIGITS = 12


def _point(seed: str, participant_id: int | str, modulus: int) -> int:
    digest = hashlib.sha256(f"{seed}:{participant_id}".encode()).hexdigest()
    return int(digest[:_HASH_DIGITS], 16) % modulus


def assign_variant(
    seed: str, participant_id: int | str, variants: Sequence[str | Mapping]
) -> str | None:
    """The variant of this participant: the same answer every time for the same seed and
    participant (no stored state needed), balanced by weight across participants.

    `variants` is a list of keys (equal weights) or of `{"key", "weight"}` as the program
    spec's `experiments[].variants` has them. Use the experiment key as the seed, so two
    experiments split the same people independently.
    """
    entries = [
        (v, 1) if isinstance(v, str) else (v["key"], int(v.get("weight", 1))) for v in variants
    ]
    total = sum(w for _, w in entries)
    if total <= 0:
        return None
    point = _point(seed, participant_id, total)
    for key, weight in entries:
        if point < weight:
            return key
        point -= weight
    return entries[-1][0]


def in_holdout(seed: str, participant_id: int | str, basis_points: int) -> bool:
    """Whether this participant is kept out of the offer (a share in basis points)."""
    if basis_points <= 0:
        return False
    return _point("holdout:" + seed, participant_id, 10_000) < basis_points


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


# --- the winner -----------------------------------------------------------------------------


def _merge(base, override):
    if isinstance(base, dict) and isinstance(override, dict):
        out = dict(base)
        for key, value in override.items():
            out[key] = _merge(base.get(key), value) if key in base else copy.deepcopy(value)
        return out
    if (
        isinstance(base, list)
        and isinstance(override, list)
        and all(isinstance(i, dict) and "key" in i for i in base + override)
    ):
        # Keyed lists (stages, rewards) merge item by item, so an override can change one
        # reward's amount without restating the stage.
        out = [copy.deepcopy(i) for i in base]
        index = {item["key"]: n for n, item in enumerate(out)}
        for item in override:
            if item["key"] in index:
                out[index[item["key"]]] = _merge(out[index[item["key"]]], item)
            else:
                out.append(copy.deepcopy(item))
        return out
    return copy.deepcopy(override)


def spec_with_winner(spec: Mapping, experiment_key: str, variant_key: str) -> dict:
    """The spec with the winning variant's `overrides` applied and the experiment removed."""
    experiments = spec.get("experiments") or []
    experiment = next((e for e in experiments if e["key"] == experiment_key), None)
    if experiment is None:
        raise KeyError(experiment_key)
    variant = next((v for v in experiment["variants"] if v["key"] == variant_key), None)
    if variant is None:
        raise KeyError(variant_key)
    out = _merge(dict(spec), variant.get("overrides") or {})
    out["experiments"] = [e for e in experiments if e["key"] != experiment_key]
    if not out["experiments"]:
        del out["experiments"]
    return out


# --- results from the rows ------------------------------------------------------------------


def _variant_of(stored: str, experiment_key: str) -> str:
    """Referral/enrollment `variant` is `<variant>` or `<experiment>:<variant>`."""
    if ":" in stored:
        key, _, variant = stored.partition(":")
        return variant if key == experiment_key else ""
    return stored


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
