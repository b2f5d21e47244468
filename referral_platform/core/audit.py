"""`audit_log()` and `audit_log_all()`: the only write paths into the audit log."""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import models

from .middleware import current_request_id

_deferred: contextvars.ContextVar[list | None] = contextvars.ContextVar(
    "audit_deferred", default=None
)


@contextmanager
def audit_deferred() -> Iterator[None]:
    """Inside, entries are kept and written together, in one statement, when the block ends
    without an error (a chunk of events, in its transaction: undone with it, or never
    written). Their `created_at` is when they are written."""
    token = _deferred.set([])
    try:
        yield
        entries = _deferred.get()
        if entries:
            from .models import AuditEntry

            AuditEntry.unscoped.bulk_create(entries)
    finally:
        _deferred.reset(token)


def audit_entry(
    *,
    tenant,
    actor,
    action: str,
    target: models.Model | None = None,
    data: dict | None = None,
    note: str = "",
    actor_label: str | None = None,
    ip_address: str | None = None,
):
    """An audit entry, not saved yet: `audit_log` writes one, `audit_log_all` many."""
    from .models import AuditEntry

    if actor_label is None:
        actor_label = f"user:{actor.email}" if actor is not None else "system"
    return AuditEntry(
        tenant=tenant,
        actor=actor if getattr(actor, "pk", None) else None,
        actor_label=actor_label,
        action=action,
        target_type=target._meta.label_lower if target is not None else "",
        target_id=str(target.pk) if target is not None else "",
        data=data or {},
        note=note,
        ip_address=ip_address,
        request_id=current_request_id() if current_request_id() != "-" else "",
    )


def audit_log(**entry):
    """Write one audit entry (the arguments of `audit_entry`)."""
    entry = audit_entry(**entry)
    deferred = _deferred.get()
    if deferred is not None:
        deferred.append(entry)
    else:
        entry.save(force_insert=True)
    return entry


def audit_log_all(entries: list) -> None:
    """Write the `audit_entry` entries in one statement."""
    from .models import AuditEntry

    deferred = _deferred.get()
    if deferred is not None:
        deferred.extend(entries)
    elif entries:
        AuditEntry.unscoped.bulk_create(entries)


AUDIT_CSV_HEADER = ["created_at", "actor", "action", "target_type", "target_id", "data", "note"]


def audit_csv_row(entry, *, currency: str, extra: tuple = ()) -> list:
    """One audit entry as a CSV row people open in a spreadsheet: formula-like text made
    inert and the money in `data` in major units (`currency` unless the data names one)."""
    import json

    from .spreadsheet import major_data, safe_row

    data = json.dumps(major_data(entry.data, currency), ensure_ascii=False, sort_keys=True)
    return safe_row(
        [
            entry.created_at.isoformat(),
            entry.actor_label,
            entry.action,
            entry.target_type,
            entry.target_id,
            data,
            entry.note,
            *extra,
        ]
    )
