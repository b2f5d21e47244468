"""Clawing back points that already expired takes back only what the participant had the
use of; spending, expiry and clawbacks are allocated lot by lot in the order they happened,
so later credits are never expired for points that were already gone."""

from datetime import timedelta

import pytest
import time_machine

from rewards import ledger
from rewards.services import points_redeem, reward_clawback
from rewards.sweeps import points_expire
from rewards.tests import factories as f
from rewards.tests.test_redemptions import T0, earn, entries, green_home, points

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(tenant):
    return green_home(tenant), f.participant(tenant, "alice")


def test_a_clawback_of_expired_points_takes_nothing_and_later_credits_expire_whole(tenant, shop):
    program, alice = shop
    with time_machine.travel(T0, tick=False):
        first = earn(tenant, program, alice, 300)
    with time_machine.travel(T0 + timedelta(days=200), tick=False):
        assert points_expire() == 1  # green-home points live 6 months
        assert reward_clawback(reward_id=first.pk, reason="fraud")
        earn(tenant, program, alice, 300)
    assert points(tenant, alice) == 300
    with time_machine.travel(T0 + timedelta(days=400), tick=False):
        assert points_expire() == 1
    assert entries(tenant, alice) == [
        ("credit", 300),
        ("expiry", -300),
        ("credit", 300),
        ("expiry", -300),
    ]
    assert points(tenant, alice) == 0
    assert ledger.verify_ledger(tenant.pk) == []


def test_a_clawback_of_partly_spent_points_is_owed_and_netted_against_the_next_credit(tenant, shop):
    program, alice = shop
    with time_machine.travel(T0, tick=False):
        first = earn(tenant, program, alice, 300)
        points_redeem(participant=alice, program=program, item_key="coupon_10")  # 200
    with time_machine.travel(T0 + timedelta(days=200), tick=False):
        assert points_expire() == 1  # the 100 left
        assert reward_clawback(reward_id=first.pk, reason="fraud")  # the 200 used
        assert points(tenant, alice) == -200
        earn(tenant, program, alice, 300)
    assert points(tenant, alice) == 100
    with time_machine.travel(T0 + timedelta(days=400), tick=False):
        assert points_expire() == 1
    assert entries(tenant, alice) == [
        ("credit", 300),
        ("redemption", -200),
        ("expiry", -100),
        ("clawback", -200),
        ("credit", 300),
        ("expiry", -100),
    ]
    assert points(tenant, alice) == 0
