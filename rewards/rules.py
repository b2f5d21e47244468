"""Pure rules of the money path (no I/O): refunds, cap slot bookkeeping, choices, lottery."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta

REVERSE = "reverse"
CLAWBACK = "clawback"
KEEP = "keep"


def refund_outcome(
    *,
    refund_occurred_at: datetime,
    due_at: datetime | None,
    clawback_days: int,
    purchase_amount_minor: int | None,
    refunded_total_minor: int | None,
    threshold_minor: int | None,
) -> str:
    """What a refund does to one reward anchored on the refunded purchase (SEMANTICS §5).

    A partial refund counts only when what remains falls below the stage's threshold. Then:
    inside the hold → reverse (even if the refund arrives late); after the hold → claw back
    only within `clawback_days` of the hold's end; otherwise keep."""
    partial = (
        purchase_amount_minor is not None
        and refunded_total_minor is not None
        and refunded_total_minor < purchase_amount_minor
    )
    if partial and purchase_amount_minor - refunded_total_minor >= (threshold_minor or 0):
        return KEEP
    if due_at is None or refund_occurred_at < due_at:
        return REVERSE
    if clawback_days > 0 and refund_occurred_at <= due_at + timedelta(days=clawback_days):
        return CLAWBACK
    return KEEP


def cap_slot_key(cap_slot: tuple[str, str] | None) -> str:
    return f"{cap_slot[0]}|{cap_slot[1]}" if cap_slot else ""


def split_cap_slot(value: str) -> tuple[str, str]:
    cap, _, period = value.partition("|")
    return cap, period


def slots_used(
    rows: Iterable[Mapping], *, amount_caps: set[str] = frozenset()
) -> dict[tuple[str, str], int]:
    """Slots taken per (cap, period) by live rows of *other* referrals: a referral counts once
    per slot (its later items ride on it); amount caps sum the reserved amount instead.
    Rows: {referral_id, cap_slot, reserved_minor}."""
    referrals: dict[tuple[str, str], set] = {}
    amounts: dict[tuple[str, str], int] = {}
    for row in rows:
        if not row["cap_slot"]:
            continue
        key = split_cap_slot(row["cap_slot"])
        if key[0] in amount_caps:
            amounts[key] = amounts.get(key, 0) + int(row.get("reserved_minor") or 0)
        else:
            referrals.setdefault(key, set()).add(row["referral_id"])
    out = {key: len(ids) for key, ids in referrals.items()}
    out.update(amounts)
    return out


def reserved_minor(
    *,
    kind: str,
    amount_minor: int | None,
    points: int | None,
    details: Mapping,
    options: Iterable[Mapping],
    spec: Mapping,
) -> int:
    """What a stored reward reserves against caps and budgets: the engine's own measure
    (`reserved_value`: the most expensive option, points at the program's point value,
    percent coupons at their maximum), read back from the row."""
    from programs.engine import reserved_value

    def values(kind, amount, points, details):
        return {**(details or {}), "kind": kind, "amount": amount, "points": points}

    draft = values(kind, amount_minor, points, details)
    draft["options"] = [
        values(o.get("kind"), o.get("amount_minor"), o.get("points"), o.get("details"))
        for o in options or ()
    ]
    return reserved_value(draft, spec)


def release_ready(
    *,
    now: datetime,
    due_at: datetime | None,
    hold_reason: str,
    has_options: bool,
    chosen: bool,
    choice_deadline: datetime | None,
) -> bool:
    """Release waits for the later of `due_at` and the choice (or its deadline); never while
    under review."""
    if hold_reason == "review":
        return False
    if due_at is not None and due_at > now:
        return False
    waiting_for_choice = has_options and not chosen and choice_deadline is not None
    return not (waiting_for_choice and choice_deadline > now)


# Handed over for good: cash is paid, a donation made, a ticket's month of draws decides it.
# Points expire by the program's `points.expiry_months`, lot by lot on the ledger
# (`rewards.points_expiry`), not by an item's `valid_days`.
NO_VALIDITY_KINDS = ("cash", "donation", "lottery_ticket", "points")


def valid_until(*, kind: str, details: Mapping, fulfilled_at: datetime) -> datetime | None:
    """How long a fulfilled item stays usable: its `valid_days` counted from fulfilment (a
    coupon's issue, a credit's or perk's grant), as exact days like holds. None when the
    item has no validity."""
    days = (details or {}).get("valid_days")
    if kind in NO_VALIDITY_KINDS or not days:
        return None
    return fulfilled_at + timedelta(days=int(days))


def points_catalogue(spec: Mapping) -> list[dict]:
    """The program's points catalogue, cheapest first: `[{key, points, reward: {kind, ...}}]`."""
    items = (spec.get("points") or {}).get("catalogue") or []
    return sorted(items, key=lambda item: (int(item["points"]), item["key"]))


def period_in_program(
    *, start: datetime, end: datetime, starts_at: datetime | None, ends_at: datetime | None
) -> bool:
    """Whether the period `[start, end)` overlaps the program's life `[starts_at, ends_at)`
    (an unset bound is open)."""
    return (ends_at is None or start < ends_at) and (starts_at is None or end > starts_at)


def payout_cadence(amount_minor: int, weekly_max_minor: int) -> str:
    """Small amounts go in weekly batches; the rest settle at quarter end."""
    return "week" if amount_minor <= weekly_max_minor else "quarter"


# --- Lottery: commit-reveal ---------------------------------------------------------------


def seed_new() -> str:
    return secrets.token_hex(32)


def seed_commitment(seed: str) -> str:
    return hashlib.sha256(seed.encode()).hexdigest()


def draw_winners(seed: str, tickets: list[str], count: int) -> list[str]:
    """Deterministic from the revealed seed and the sorted ticket list: each ticket ranked by
    SHA-256(seed:ticket); the lowest `count` win. Anyone can recompute it."""
    ranked = sorted(
        set(tickets), key=lambda t: (hashlib.sha256(f"{seed}:{t}".encode()).hexdigest(), t)
    )
    return ranked[:count]
