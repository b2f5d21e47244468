"""`audit_log()` — the single write path into the audit log."""

from __future__ import annotations

from django.db import models

from .middleware import current_request_id


def audit_log(
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
    from .models import AuditEntry

    if actor_label is None:
        actor_label = f"user:{actor.email}" if actor is not None else "system"
    return AuditEntry.unscoped.create(
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
