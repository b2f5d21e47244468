"""The append-only ledger: one hash chain per account, balances derived by summing."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Sum

from referral_platform.core import clock

from .models import LedgerAccount, LedgerEntry


def entry_hash(prev_hash: str, fields: dict) -> str:
    """SHA-256 over the previous hash and the entry's own fields, canonically encoded."""
    payload = json.dumps(fields, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{prev_hash}|{payload}".encode()).hexdigest()


def _fields(entry: LedgerEntry) -> dict:
    return {
        "tenant": entry.tenant_id,
        "account": entry.account,
        "reward": entry.reward_id,
        "entry_kind": entry.entry_kind,
        "reward_kind": entry.reward_kind,
        "amount_minor": int(entry.amount_minor),
        "currency": entry.currency,
        "points": int(entry.points),
        "memo": entry.memo,
        "created_at": entry.created_at.isoformat(),
    }


def participant_account(participant_id: int) -> str:
    return f"participant:{participant_id}"


def charity_account(program_id: int) -> str:
    return f"charity:{program_id}"


def ledger_append(
    *,
    tenant_id: int,
    account: str,
    entry_kind: str,
    participant_id: int | None = None,
    reward_id: int | None = None,
    reward_kind: str = "",
    amount_minor: int = 0,
    currency: str = "",
    points: int = 0,
    memo: str = "",
) -> LedgerEntry:
    """Append one entry. Must run inside the caller's transaction: the account head is locked
    so two writers cannot both chain onto the same predecessor."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("ledger_append needs the caller's transaction")
    head, _ = LedgerAccount.unscoped.get_or_create(tenant_id=tenant_id, account=account)
    head = LedgerAccount.unscoped.select_for_update().get(pk=head.pk)
    entry = LedgerEntry(
        tenant_id=tenant_id,
        participant_id=participant_id,
        account=account,
        reward_id=reward_id,
        entry_kind=entry_kind,
        reward_kind=reward_kind,
        amount_minor=amount_minor,
        currency=currency,
        points=points,
        memo=memo[:200],
        prev_hash=head.head_hash,
        created_at=clock.now().replace(microsecond=0),
    )
    entry.hash = entry_hash(head.head_hash, _fields(entry))
    entry.save()
    LedgerAccount.unscoped.filter(pk=head.pk).update(
        head_hash=entry.hash, entries_count=head.entries_count + 1
    )
    return entry


@dataclass(frozen=True)
class ChainProblem:
    account: str
    entry_id: int
    problem: str


def verify_chain(entries: Iterable[LedgerEntry]) -> list[ChainProblem]:
    """Entries of one account in id order; every link and every hash must recompute."""
    problems = []
    prev = ""
    for entry in entries:
        if entry.prev_hash != prev:
            problems.append(ChainProblem(entry.account, entry.pk, "broken link"))
        if entry_hash(entry.prev_hash, _fields(entry)) != entry.hash:
            problems.append(ChainProblem(entry.account, entry.pk, "hash mismatch"))
        prev = entry.hash
    return problems


def verify_ledger(tenant_id: int | None = None) -> list[ChainProblem]:
    qs = LedgerEntry.unscoped.all()
    heads = LedgerAccount.unscoped.all()
    if tenant_id is not None:
        qs, heads = qs.filter(tenant_id=tenant_id), heads.filter(tenant_id=tenant_id)
    problems: list[ChainProblem] = []
    by_account: dict[tuple[int, str], list[LedgerEntry]] = {}
    for entry in qs.order_by("tenant_id", "account", "id").iterator():
        by_account.setdefault((entry.tenant_id, entry.account), []).append(entry)
    for entries in by_account.values():
        problems.extend(verify_chain(entries))
    # An entry deleted from the end leaves the head pointing at a hash nobody has.
    for head in heads:
        chain = by_account.get((head.tenant_id, head.account), [])
        if (chain[-1].hash if chain else "") != head.head_hash:
            problems.append(ChainProblem(head.account, 0, "head mismatch"))
    return problems


def balances(tenant_id: int, account: str) -> dict[str, int]:
    """{currency: amount_minor, "points": n} derived from the entries."""
    rows = (
        LedgerEntry.unscoped.filter(tenant_id=tenant_id, account=account)
        .values("currency")
        .annotate(amount=Sum("amount_minor"), points=Sum("points"))
    )
    out: dict[str, int] = {}
    for row in rows:
        if row["currency"] and row["amount"]:
            out[row["currency"]] = out.get(row["currency"], 0) + row["amount"]
        if row["points"]:
            out["points"] = out.get("points", 0) + row["points"]
    return out
