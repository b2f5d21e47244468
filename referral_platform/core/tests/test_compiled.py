"""Compiled reads return what their queryset returns, with one compilation per shape."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import transaction
from django.db.transaction import TransactionManagementError

from referral_platform.core.compiled import LONGEST_LIST, NotCompilable, compiled
from referral_platform.core.models import AuditEntry

T0 = dt.datetime(2026, 3, 1, 8, 0, tzinfo=dt.UTC)


def _entries(tenant, n=5):
    AuditEntry.unscoped.filter(tenant=tenant).delete()  # the tenant's own creation
    rows = [
        AuditEntry(tenant=tenant, action=f"act-{i}", target_id=str(i), data={"i": i, "odd": i % 2})
        for i in range(n)
    ]
    AuditEntry.unscoped.bulk_create(rows)
    for i, row in enumerate(AuditEntry.unscoped.filter(tenant=tenant).order_by("pk")):
        AuditEntry.unscoped.filter(pk=row.pk).update(created_at=T0 + dt.timedelta(hours=i))
    return list(AuditEntry.unscoped.filter(tenant=tenant).order_by("pk"))


class Counted:
    """A compiled read that counts how often its queryset is built."""

    def __init__(self, build):
        self.built = 0

        def counting(**values):
            self.built += 1
            return build(**values)

        counting.__name__ = build.__name__
        self.read = compiled(counting)


def test_model_rows_come_back_with_their_related_rows_and_json_decoded(tenant, other_tenant):
    mine = _entries(tenant)
    _entries(other_tenant)
    counted = Counted(
        lambda *, tenant_id, since: (
            AuditEntry.objects.for_tenant(tenant_id)
            .filter(created_at__gte=since)
            .select_related("tenant")
            .order_by("pk")
        )
    )
    first = counted.read(tenant_id=tenant.pk, since=T0 + dt.timedelta(hours=3))
    assert [e.pk for e in first] == [mine[3].pk, mine[4].pk]
    assert first[0].data == {"i": 3, "odd": 1}  # the JSON field's converter ran
    assert first[0].tenant.slug == "acme"  # select_related populated, no query
    assert first[0].created_at == T0 + dt.timedelta(hours=3)
    again = counted.read(tenant_id=tenant.pk, since=T0)
    assert [e.pk for e in again] == [e.pk for e in mine]
    assert counted.built == 1
    assert counted.read(tenant_id=other_tenant.pk, since=T0 + dt.timedelta(hours=4))[
        0
    ].tenant_id == (other_tenant.pk)
    assert counted.built == 1


def test_values_and_flat_values_match_the_orm(tenant):
    mine = _entries(tenant)
    pairs = compiled(
        lambda *, tenant_id, action: (
            AuditEntry.objects.for_tenant(tenant_id)
            .filter(action=action)
            .values_list("target_id", "data")
        )
    )
    assert pairs(tenant_id=tenant.pk, action="act-2") == [("2", {"i": 2, "odd": 0})]
    flat = compiled(
        lambda *, tenant_id: (
            AuditEntry.objects.for_tenant(tenant_id)
            .order_by("-pk")
            .values_list("pk", flat=True)[:2]
        )
    )
    assert flat(tenant_id=tenant.pk) == [mine[4].pk, mine[3].pk]


def test_a_list_compiles_once_per_length_and_none_or_empty_reads_as_usual(tenant):
    mine = _entries(tenant)
    counted = Counted(
        lambda *, tenant_id, ids: (
            AuditEntry.objects.for_tenant(tenant_id)
            .filter(pk__in=ids)
            .order_by("pk")
            .values_list("action", flat=True)
        )
    )
    assert counted.read(tenant_id=tenant.pk, ids=[mine[0].pk, mine[2].pk]) == ["act-0", "act-2"]
    assert counted.read(tenant_id=tenant.pk, ids={mine[4].pk, mine[1].pk}) == ["act-1", "act-4"]
    assert counted.built == 1
    assert counted.read(tenant_id=tenant.pk, ids=(mine[3].pk,)) == ["act-3"]
    assert counted.built == 2
    assert counted.read(tenant_id=tenant.pk, ids=[]) == []
    many = [e.pk for e in mine] + list(range(10**6, 10**6 + LONGEST_LIST))
    assert len(counted.read(tenant_id=tenant.pk, ids=many)) == 5
    assert counted.built == 4  # read as usual, nothing kept
    assert counted.read(tenant_id=tenant.pk, ids=[mine[0].pk, mine[2].pk]) == ["act-0", "act-2"]
    assert counted.built == 4


def test_a_boolean_is_part_of_the_shape(tenant):
    _entries(tenant)
    counted = Counted(
        lambda *, tenant_id, with_note: (
            AuditEntry.objects.for_tenant(tenant_id)
            .filter(note="" if not with_note else "x")
            .values_list("pk", flat=True)
        )
    )
    assert len(counted.read(tenant_id=tenant.pk, with_note=False)) == 5
    assert counted.read(tenant_id=tenant.pk, with_note=True) == []
    assert len(counted.read(tenant_id=tenant.pk, with_note=False)) == 5
    assert counted.built == 2


def test_an_argument_the_lookup_changes_is_refused_by_name(tenant):
    read = compiled(
        lambda *, tenant_id, part: AuditEntry.objects.for_tenant(tenant_id).filter(
            action__contains=part
        )
    )
    with pytest.raises(NotCompilable, match="part"):
        read(tenant_id=tenant.pk, part="act")


def test_one_statement_per_call(tenant, django_assert_num_queries):
    _entries(tenant)
    read = compiled(
        lambda *, tenant_id: AuditEntry.objects.for_tenant(tenant_id).select_related("tenant")
    )
    read(tenant_id=tenant.pk)
    with django_assert_num_queries(1):
        assert len(read(tenant_id=tenant.pk)) == 5


@pytest.mark.django_db(transaction=True)
def test_locking_reads_need_a_transaction_as_with_the_orm(tenant):
    _entries(tenant)
    read = compiled(
        lambda *, tenant_id: AuditEntry.objects.for_tenant(tenant_id).select_for_update()
    )
    with transaction.atomic():
        assert len(read(tenant_id=tenant.pk)) == 5
    if not transaction.get_connection().features.has_select_for_update:
        # SQLite locks the whole database instead: the ORM reads it anywhere, and so do we.
        assert len(read(tenant_id=tenant.pk)) == 5
        return
    with pytest.raises(TransactionManagementError):
        read(tenant_id=tenant.pk)


@pytest.mark.django_db(transaction=True)
def test_another_thread_reads_on_its_own_connection(tenant):
    mine = _entries(tenant)
    read = compiled(
        lambda *, tenant_id: AuditEntry.objects.for_tenant(tenant_id).values_list("pk", flat=True)
    )
    assert sorted(read(tenant_id=tenant.pk)) == [e.pk for e in mine]
    seen = []

    def other():
        from django.db import connection, connections

        try:
            seen.append((sorted(read(tenant_id=tenant.pk)), id(connection.connection)))
        finally:
            connections.close_all()

    thread = threading.Thread(target=other)
    thread.start()
    thread.join()
    from django.db import connection

    assert seen[0][0] == [e.pk for e in mine]
    assert seen[0][1] != id(connection.connection)


def test_a_queryset_argument_is_read_as_usual(tenant):
    mine = _entries(tenant)
    counted = Counted(
        lambda *, tenant_id, ids: (
            AuditEntry.objects.for_tenant(tenant_id)
            .filter(pk__in=ids)
            .values_list("action", flat=True)
        )
    )
    inner = AuditEntry.objects.for_tenant(tenant).filter(target_id="1").values("pk")
    assert counted.read(tenant_id=tenant.pk, ids=inner) == ["act-1"]
    assert counted.read(tenant_id=tenant.pk, ids=inner) == ["act-1"]
    assert counted.built == 2  # nothing compiled, nothing kept
    assert mine[1].action == "act-1"


def test_a_fixed_argument_compiles_once_for_each_value(tenant):
    _entries(tenant)
    counted = Counted(
        lambda *, tenant_id, limit: (
            AuditEntry.objects.for_tenant(tenant_id)
            .order_by("pk")
            .values_list("target_id", flat=True)[:limit]
        )
    )
    counted.read = compiled(fixed=("limit",))(counted.read.build)
    assert counted.read(tenant_id=tenant.pk, limit=2) == ["0", "1"]
    assert counted.read(tenant_id=tenant.pk, limit=3) == ["0", "1", "2"]
    assert counted.read(tenant_id=tenant.pk, limit=2) == ["0", "1"]
    assert counted.built == 2
    unfixed = compiled(counted.read.build)
    with pytest.raises(NotCompilable, match="fixed"):
        unfixed(tenant_id=tenant.pk, limit=2)


def test_constants_of_any_kind_stay_in_the_sql(tenant):
    _entries(tenant)
    read = compiled(
        lambda *, tenant_id: (
            AuditEntry.objects.for_tenant(tenant_id)
            .filter(data__contains={"odd": 1})
            .order_by("pk")
            .values_list("target_id", flat=True)
        )
    )
    if not transaction.get_connection().features.supports_json_field_contains:
        pytest.skip("this backend has no JSON containment")
    assert read(tenant_id=tenant.pk) == ["1", "3"]
    assert read(tenant_id=tenant.pk) == ["1", "3"]
