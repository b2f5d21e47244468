"""The program's holdout (SEMANTICS §10): a stable share of its participants gets no link,
offer, widget or reward, so that analytics can compare them with the treated members.

The share and the seed live in the spec's `holdout` section (`{"percent": 10, "seed": "…"}`);
membership is a hash of the seed and the participant id — no stored state, the same answer
in tracking, rewards, the portal and analytics. Pure functions of the program's current
spec: no query beyond the program's current version (callers select it along)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from itertools import count

from .engine import hash_point

# Basis points: 10 % is 1000.
SCALE = 10_000


def holdout_settings(spec: Mapping, program_id: int) -> tuple[int, str] | None:
    """`(share in basis points, seed)` of the spec's holdout, None when it holds nobody out.
    Without a seed, the program's own (`program:<id>`) keeps assignments stable."""
    section = (spec or {}).get("holdout") or {}
    basis_points = round(float(section.get("percent") or 0) * 100)
    if basis_points <= 0:
        return None
    return basis_points, section.get("seed") or f"program:{program_id}"


def assigned(seed: str, participant_id: int | str, basis_points: int) -> bool:
    """Whether this participant falls in a holdout of this share (basis points) and seed."""
    if basis_points <= 0:
        return False
    return hash_point("holdout:" + seed, participant_id, SCALE) < basis_points


def in_holdout(program, participant_id: int | str) -> bool:
    """Whether the program holds this participant out (no link, offer, widget or reward)."""
    settings = holdout_settings(program.spec, program.pk)
    return settings is not None and assigned(settings[1], participant_id, settings[0])


def holdout_members(program, participant_ids: Iterable[int]) -> set[int]:
    """Which of these participants the program holds out."""
    settings = holdout_settings(program.spec, program.pk)
    if settings is None:
        return set()
    basis_points, seed = settings
    return {pid for pid in participant_ids if assigned(seed, pid, basis_points)}


def held_out_programs(programs: Iterable, participant_id: int) -> set[int]:
    """The ids of those programs that hold this participant out."""
    return {p.pk for p in programs if in_holdout(p, participant_id)}


def seed_splitting(
    basis_points: int,
    *,
    held: Iterable[int] = (),
    treated: Iterable[int] = (),
    prefix: str = "seed",
) -> str:
    """The first seed `<prefix>-<n>` of a holdout of this share that holds out every one of
    `held` and none of `treated` (a demo or a test that needs named people on each side)."""
    held, treated = list(held), list(treated)
    return next(
        seed
        for seed in (f"{prefix}-{n}" for n in count())
        if all(assigned(seed, pid, basis_points) for pid in held)
        and not any(assigned(seed, pid, basis_points) for pid in treated)
    )
