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
