"""Payouts requested once their period's batch was approved were stored without a batch;
the migration puts each in the open batch of its period, or a follow-on, as new payouts go."""

import datetime as dt
import importlib

from django.db import connection
from django.db.migrations.loader import MigrationLoader

from rewards.models import Payout, PayoutBatch, Reward
from rewards.tests import factories as f

migration = importlib.import_module("rewards.migrations.0009_payouts_into_batches")
WHEN = dt.datetime(2026, 11, 18, 3, 0, tzinfo=dt.UTC)  # Wednesday of ISO week 47 in Shanghai


def _payout(tenant, prog, ref, amount_minor, status="requested") -> Payout:
    reward = Reward.unscoped.create(
        tenant=tenant, program=prog, program_version_id=prog.current_version_id,
        participant=ref.referrer, referral=ref, side="referrer", scope=f"referral:{ref.pk}",
        reason=f"stage:cash-{amount_minor}", rule_key=f"cash-{amount_minor}", status="approved",
        kind="cash", amount_minor=amount_minor, currency="CNY",
    )  # fmt: skip
    return Payout.unscoped.create(
        tenant=tenant, reward=reward, amount_minor=amount_minor, currency="CNY",
        status=status, created_at=WHEN,
    )  # fmt: skip


def test_payouts_without_a_batch_wait_in_their_periods_open_batch(tenant):
    prog = f.program(tenant)
    ref = f.referral(tenant, prog)
    approved = PayoutBatch.unscoped.create(
        tenant=tenant, program=prog, cadence="week", period_key="2026-W47", currency="CNY",
        status="approved", created_at=WHEN,
    )  # fmt: skip
    small = _payout(tenant, prog, ref, 5_000)
    large = _payout(tenant, prog, ref, 50_000)
    paid = _payout(tenant, prog, ref, 3_000, status="paid")

    state = MigrationLoader(connection).project_state(("rewards", "0009_payouts_into_batches"))
    migration.forwards(state.apps, None)

    small.refresh_from_db()
    large.refresh_from_db()
    paid.refresh_from_db()
    assert (small.batch.period_key, small.batch.status) == ("2026-W47-2", "open")
    assert (large.batch.cadence, large.batch.period_key) == ("quarter", "2026-Q4")
    assert paid.batch is None  # settled payouts are history, not waiting for approval
    approved.refresh_from_db()
    assert approved.status == "approved"
    assert PayoutBatch.unscoped.filter(tenant=tenant).count() == 3
