"""A/B experiments (SEMANTICS §5): stable assignment of a participant to a variant, and the
spec a set of assigned variants makes. Pure, like the rest of the engine.

A variant's `overrides` is a partial spec merged over the program's spec; keyed lists
(stages, rewards, tiers, caps…) merge item by item, so an override can change one reward's
amount without restating its stage. Tracking stores a participant's assignments as text
(`variants_encode`); the engine's evaluation and analytics read them back with
`variants_decode`.
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Mapping

# 12 hex digits (48 bits) of SHA-256: uniform enough for any weight total a spec can hold.
_HASH_DIGITS = 12
# Experiment and variant keys are `[a-z0-9_-]` (the spec schema's KEY), so neither
# separator can occur inside a key.
_PAIR_SEPARATOR = ","
_KEY_SEPARATOR = ":"


def hash_point(seed: str, unit: int | str, modulus: int) -> int:
    """A point in `[0, modulus)` that depends only on the seed and the unit (a participant id):
    the same answer every time, with no stored state, and independent across seeds."""
    digest = hashlib.sha256(f"{seed}:{unit}".encode()).hexdigest()
    return int(digest[:_HASH_DIGITS], 16) % modulus


def _experiment(spec: Mapping, experiment_key: str) -> Mapping | None:
    return next((e for e in spec.get("experiments") or () if e["key"] == experiment_key), None)


def _variant(experiment: Mapping, variant_key: str) -> Mapping | None:
    return next((v for v in experiment["variants"] if v["key"] == variant_key), None)


def assign_variant(spec: Mapping, experiment_key: str, participant_id: int | str) -> str | None:
    """The participant's variant of the experiment, picked by weight with the experiment key
    as the hash seed (two experiments split the same people independently); None for an
    unknown experiment or weights that add up to nothing."""
    experiment = _experiment(spec, experiment_key)
    if experiment is None:
        return None
    total = sum(v["weight"] for v in experiment["variants"])
    if total <= 0:
        return None
    point = hash_point(experiment_key, participant_id, total)
    for variant in experiment["variants"]:
        if point < variant["weight"]:
            return variant["key"]
        point -= variant["weight"]
    return experiment["variants"][-1]["key"]


def variants_assign(
    spec: Mapping, side: str, participant_id: int, assigned: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The participant's variant of every experiment of the spec on `side` (`referrer` at
    enrollment, `referee` at the referral's creation). A variant already `assigned` is kept
    while the experiment still has it: an assignment, once made, never moves."""
    assigned = assigned or {}
    out: dict[str, str] = {}
    for experiment in spec.get("experiments") or ():
        if experiment["side"] != side:
            continue
        kept = assigned.get(experiment["key"])
        if kept is not None and _variant(experiment, kept) is not None:
            out[experiment["key"]] = kept
            continue
        variant = assign_variant(spec, experiment["key"], participant_id)
        if variant is not None:
            out[experiment["key"]] = variant
    return out


def _merge(base, override):
    """`override` over `base`: objects merge by key, keyed lists item by item (an unknown key
    is appended), anything else is replaced. Neither input is changed."""
    if isinstance(base, dict) and isinstance(override, dict):
        out = dict(base)
        for key, value in override.items():
            out[key] = _merge(base[key], value) if key in base else copy.deepcopy(value)
        return out
    if (
        isinstance(base, list)
        and isinstance(override, list)
        and all(isinstance(i, dict) and "key" in i for i in base + override)
    ):
        out = [copy.deepcopy(i) for i in base]
        index = {item["key"]: n for n, item in enumerate(out)}
        for item in override:
            if item["key"] in index:
                out[index[item["key"]]] = _merge(out[index[item["key"]]], item)
            else:
                index[item["key"]] = len(out)
                out.append(copy.deepcopy(item))
        return out
    return copy.deepcopy(override)


def spec_for_variants(spec: Mapping, variants: Mapping[str, str]) -> dict:
    """The spec as the given variants make it: each assigned variant's `overrides` merged over
    it, in the order the experiments are listed (a later experiment wins where two override
    the same value). Experiments or variants the spec does not have are ignored, so an
    assignment made under an earlier version never breaks a later one."""
    out = dict(spec)
    for experiment in spec.get("experiments") or ():
        variant_key = variants.get(experiment["key"])
        variant = _variant(experiment, variant_key) if variant_key is not None else None
        if variant is not None and variant.get("overrides"):
            out = _merge(out, variant["overrides"])
    return out


def variants_encode(variants: Mapping[str, str]) -> str:
    """`<experiment>:<variant>` pairs, comma-separated, sorted by experiment ("" for none)."""
    return _PAIR_SEPARATOR.join(f"{key}{_KEY_SEPARATOR}{variants[key]}" for key in sorted(variants))


def variants_decode(stored: str) -> dict[str, str]:
    """The assignments `variants_encode` wrote: {experiment: variant}."""
    out: dict[str, str] = {}
    for pair in (stored or "").split(_PAIR_SEPARATOR):
        key, sep, variant = pair.partition(_KEY_SEPARATOR)
        if sep and key and variant:
            out[key] = variant
    return out
