"""Concurrent redemptions against real PostgreSQL (row locks mean nothing on SQLite): the
balance is read and debited under the account's lock, so they can never overspend."""

import threading
from collections import Counter

import pytest
from django.db import connection, connections

from referral_platform.core.errors import Conflict
from referral_platform.core.testing import race, require_or_skip
from rewards import ledger
from rewards.models import Redemption
from rewards.services import points_redeem
from rewards.tests import factories as f
from rewards.tests.test_redemptions import earn, green_home, points

pytestmark = pytest.mark.django_db(transaction=True)


def _outcomes(n, target) -> list[str]:
    results = race(n, target, expected=(Conflict,))
    return [r.code if isinstance(r, Conflict) else "redeemed" for r in results]


@pytest.fixture(autouse=True)
def postgres_only():
    if connection.vendor != "postgresql":
        require_or_skip("row-lock races need PostgreSQL (set DATABASE_URL)")


def test_concurrent_redemptions_never_spend_more_points_than_the_balance(tenant):
    program = green_home(tenant)
    alice = f.participant(tenant, "alice")
    earn(tenant, program, alice, 300)
    earn(tenant, program, alice, 300)

    outcomes = _outcomes(
        6, lambda _i: points_redeem(participant=alice, program=program, item_key="coupon_10")
    )

    # 600 points buy exactly three ¥10 coupons at 200 each; the other three are refused.
    assert Counter(outcomes) == {"redeemed": 3, "insufficient_points": 3}
    assert points(tenant, alice) == 0
    assert Redemption.objects.for_tenant(tenant).count() == 3
    assert len(set(Redemption.objects.for_tenant(tenant).values_list("code", flat=True))) == 3
    assert ledger.verify_ledger(tenant.pk) == []


def test_the_same_key_sent_twice_at_once_redeems_once(tenant):
    program = green_home(tenant)
    alice = f.participant(tenant, "alice")
    earn(tenant, program, alice, 1000)

    outcomes = _outcomes(
        4,
        lambda _i: points_redeem(
            participant=alice, program=program, item_key="coupon_20", idempotency_key="k"
        ),
    )

    assert outcomes == ["redeemed"] * 4
    assert Redemption.objects.for_tenant(tenant).count() == 1
    assert points(tenant, alice) == 600


def test_a_redemption_committing_while_points_expire_is_never_expired_again(tenant):
    """The expiry sweep reads what is left of each lot under the account's lock: points a
    redemption spends meanwhile are not expired a second time (no negative balance)."""
    import time
    from datetime import timedelta

    import time_machine
    from django.db import transaction

    from rewards.models import LedgerEntryKind
    from rewards.sweeps import points_expire
    from rewards.tests.test_redemptions import T0

    program = green_home(tenant)
    alice = f.participant(tenant, "alice")
    with time_machine.travel(T0, tick=False):
        earn(tenant, program, alice, 300)
    account = ledger.participant_account(alice.pk)
    locked, done = threading.Event(), []

    def spend_everything_slowly():
        try:
            with transaction.atomic():
                ledger.ledger_append(  # takes the account's lock, like a redemption does
                    tenant_id=tenant.pk,
                    account=account,
                    entry_kind=LedgerEntryKind.REDEMPTION,
                    participant_id=alice.pk,
                    points=-300,
                    memo="redeemed",
                )
                locked.set()
                time.sleep(1.0)
            done.append(True)
        finally:
            connections.close_all()

    spender = threading.Thread(target=spend_everything_slowly)
    spender.start()
    assert locked.wait(10)
    with time_machine.travel(T0 + timedelta(days=200), tick=False):
        expired = points_expire()
    spender.join(10)
    assert done == [True]
    assert expired == 0
    assert points(tenant, alice) == 0
    assert ledger.verify_ledger(tenant.pk) == []
