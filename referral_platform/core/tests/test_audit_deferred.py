"""Audit entries deferred inside a block are written together when it ends well."""

from __future__ import annotations

import pytest

from referral_platform.core.audit import audit_deferred, audit_entry, audit_log, audit_log_all
from referral_platform.core.models import AuditEntry


def _actions(tenant):
    return list(
        AuditEntry.objects.for_tenant(tenant)
        .exclude(action="tenant.created")
        .order_by("pk")
        .values_list("action", flat=True)
    )


def test_deferred_entries_are_written_in_one_statement_when_the_block_ends(
    tenant, django_assert_num_queries
):
    with django_assert_num_queries(1), audit_deferred():
        audit_log(tenant=tenant, actor=None, action="one")
        audit_log_all([audit_entry(tenant=tenant, actor=None, action=a) for a in ("two", "three")])
    assert _actions(tenant) == ["one", "two", "three"]


def test_nothing_deferred_is_written_when_the_block_raises(tenant):
    with pytest.raises(RuntimeError), audit_deferred():
        audit_log(tenant=tenant, actor=None, action="lost")
        raise RuntimeError("undone")
    assert _actions(tenant) == []
    # Outside a block each is written at once.
    audit_log(tenant=tenant, actor=None, action="kept")
    assert _actions(tenant) == ["kept"]
