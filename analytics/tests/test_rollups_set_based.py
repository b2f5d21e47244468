"""On PostgreSQL the rollups are summed in the database (`analytics.rollups_sql`): the rows
equal the Python computation's (`rollups._compute`, the SQLite path), and a set-based
rebuild equals the incremental update, on the hand-built data and on generated data."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.db import connection

from analytics import rollups, rollups_sql
from analytics.models import RollupState
from referral_platform.core.testing import require_or_skip

from . import factories as f
from .test_rollups import NOW, _dump, _late_changes


@pytest.fixture(autouse=True)
def postgres_only(db):
    if connection.vendor != "postgresql":
        require_or_skip("the set-based rollups are PostgreSQL's (set DATABASE_URL)")


def _python_rebuild(tenant, monkeypatch) -> tuple:
    with monkeypatch.context() as m:
        m.setattr(rollups_sql, "supported", lambda: False)
        rollups.rollups_rebuild(tenant=tenant)
    return _dump(tenant)


def _odd_dimensions(tenant, d) -> None:
    """A region given as a number, an empty first segment, a share naming its program and
    one with an empty channel, a referral without a click: each must key the same row."""
    r5 = f.person(tenant, "R5", segments=["", "vip"])
    r5.attributes = {"region": 7}
    r5.save(update_fields=["attributes"])
    en5 = f.enroll(d.prog, r5, when=f.at("2026-02-21"))
    f.event(r5, "share", f.at("2026-03-12"), properties={"program": "other", "channel": ""})
    f.event(r5, "share", f.at("2026-03-12"), properties={"channel": "whatsapp"})
    f.click(d.prog, en5, f.at("2026-03-12"), source="poster")
    e11 = f.person(tenant, "E11")
    f11 = f.referral(d.prog, r5, e11, f.at("2026-03-13"), status="converted")
    f.stage(f11, "paid", "converted", f.at("2026-03-14"))
    f.reward(f11, kind="cash", amount_minor=900, fulfilled_at=f.at("2026-03-15"))


def test_set_based_rows_equal_the_python_ones_on_the_hand_built_data(tenant, monkeypatch):
    with time_machine.travel(NOW, tick=False):
        d = f.build(tenant)
        _odd_dimensions(tenant, d)
        rollups.rollups_rebuild(tenant=tenant)
    set_based = _dump(tenant)
    assert set_based[0] and set_based[1]
    with time_machine.travel(NOW, tick=False):
        assert _python_rebuild(tenant, monkeypatch) == set_based

    with time_machine.travel(NOW + timedelta(days=1, hours=1), tick=False):
        _late_changes(tenant, d)
        rollups.rollups_update(tenant=tenant)
    incremental = _dump(tenant)
    with time_machine.travel(NOW + timedelta(days=1, hours=2), tick=False):
        rollups.rollups_rebuild(tenant=tenant)
        assert _dump(tenant) == incremental
        assert _python_rebuild(tenant, monkeypatch) == incremental


def test_on_generated_data_a_set_based_rebuild_equals_the_incremental_update(monkeypatch):
    from bench import analytics_dashboard as bench

    scale = 0.001  # 100 referrers, 1,000 referrals, 10,000 clicks over 60 days
    with time_machine.travel(NOW, tick=False):
        tenant, program = bench.generate(scale, days=60, start=NOW - timedelta(days=60))
        rollups.rollups_rebuild(tenant=tenant)
    rebuilt = _dump(tenant)
    assert sum(row[6] for row in rebuilt[0]) > 9000  # the human clicks are all counted
    with time_machine.travel(NOW, tick=False):
        assert _python_rebuild(tenant, monkeypatch) == rebuilt

    # A day of new traffic, then the incremental step, against a rebuild of everything.
    RollupState.objects.for_tenant(tenant).update(watermark=NOW)
    with time_machine.travel(NOW + timedelta(days=1, hours=1), tick=False):
        bench.add_one_day(tenant, program, scale, NOW)
        result = rollups.rollups_update(tenant=tenant)
        assert result["days"] > 0
        incremental = _dump(tenant)
        rollups.rollups_rebuild(tenant=tenant)
        assert _dump(tenant) == incremental
        assert _python_rebuild(tenant, monkeypatch) == incremental
    assert incremental != rebuilt


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_the_days_and_customers_rebuild_at_once_with_the_same_rows(
    monkeypatch,
):
    from django.db import transaction

    from bench import analytics_dashboard as bench

    threads = []
    real = rollups._in_parallel

    def spy(parts, **kwargs):
        threads.append([part.__name__ for part in parts])
        return real(parts, **kwargs)

    monkeypatch.setattr(rollups, "_in_parallel", spy)
    with time_machine.travel(NOW, tick=False):
        tenant, _program = bench.generate(0.001, days=60, start=NOW - timedelta(days=60))
        result = rollups.rollups_rebuild(tenant=tenant)
        parallel = _dump(tenant)
        assert threads == [["_days_rebuild", "_customers_rebuild"]]
        with transaction.atomic():  # a caller's transaction: one after the other, in it
            assert rollups.rollups_rebuild(tenant=tenant) == result
        assert len(threads) == 1
    assert _dump(tenant) == parallel
    assert parallel[0] and parallel[1]
    assert result["customers"] > 1000
    state = RollupState.objects.for_tenant(tenant).get()
    assert state.watermark == NOW
