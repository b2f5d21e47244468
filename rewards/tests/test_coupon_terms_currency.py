"""A percent coupon's cap and minimum spend are money: rows written before they carried the
program's currency get it from the migration, and their value then reads whole."""

import importlib

from django.db import connection
from django.db.migrations.loader import MigrationLoader

from rewards.models import Reward
from rewards.selectors import referral_reward_rows
from rewards.tests import factories as f

migration = importlib.import_module("rewards.migrations.0007_coupon_terms_currency")


def _row(tenant, prog, ref, rule_key, **fields) -> Reward:
    return Reward.unscoped.create(
        tenant=tenant, program=prog, program_version_id=prog.current_version_id,
        participant=ref.referee, referral=ref, side="referee", scope=f"referral:{ref.pk}",
        reason=f"stage:{rule_key}", rule_key=rule_key, status="pending", **fields,
    )  # fmt: skip


def test_old_percent_coupons_get_the_program_currency_and_read_whole(tenant):
    prog = f.program(tenant)
    ref = f.referral(tenant, prog)
    capped = _row(tenant, prog, ref, "offer", kind="coupon", currency="",
                  details={"percent_off": 10, "max_amount": 50000})  # fmt: skip
    minimum = _row(tenant, prog, ref, "spend", kind="coupon", currency="",
                   details={"percent_off": 5, "min_spend": 12900})  # fmt: skip
    plain = _row(tenant, prog, ref, "pct", kind="coupon", currency="", details={"percent_off": 5})
    points = _row(tenant, prog, ref, "points", kind="points", currency="", points=100)
    assert [r.value for r in referral_reward_rows(referral=ref).rows][0] == "10% off, up to "

    # The models as the migration sees them (historical, with plain managers).
    state = MigrationLoader(connection).project_state(("rewards", "0007_coupon_terms_currency"))
    migration.forwards(state.apps, None)

    currencies = dict(Reward.unscoped.filter(referral=ref).values_list("pk", "currency"))
    assert currencies == {capped.pk: "CNY", minimum.pk: "CNY", plain.pk: "", points.pk: ""}
    assert [r.value for r in referral_reward_rows(referral=ref).rows] == [
        "10% off, up to ¥500",
        "5% off on orders of ¥129 or more",
        "5% off",
        "100 points",
    ]
