"""green-home (SCENARIOS B) end to end through the events API and `tick`."""

from datetime import datetime, timedelta

import pytest
import time_machine

from fraud.models import ReviewCase
from programs.services import program_create
from programs.templates_data.green_home import green_home_spec
from rewards import ledger
from rewards.models import LedgerEntry, LotteryDraw, Reward
from rewards.rules import seed_commitment
from tests.scenario import event as _event
from tests.scenario import tick as _tick
from tracking.models import Referral

T0 = datetime.fromisoformat("2026-04-06T02:00:00+00:00")  # a Monday, 10:00 in Shanghai


@pytest.fixture
def shop(tenant, api):
    spec = green_home_spec(2026)
    spec["status"] = "active"
    program = program_create(tenant=tenant, spec=spec, actor=None)
    api.post(
        "/api/v1/participants",
        {
            "external_id": "alice",
            "email": "alice@example.test",
            "attributes": {"orders_count": 3, "phone_verified": True},
        },
        format="json",
    )
    enrolled = api.post(
        "/api/v1/programs/green-home/enrollments", {"participant": "alice"}, format="json"
    )
    assert enrolled.status_code in (200, 201), enrolled.content
    return program, enrolled.json()["code"]


def _refer(api, code, friend, at, amount=12000, order=None):
    _event(
        api,
        f"{friend}-signup",
        "signup",
        friend,
        at - timedelta(hours=1),
        referral={"code": code},
        context={"device_id": f"dev-{friend}", "ip": f"203.0.{len(friend)}.{ord(friend[-1])}"},
    )
    _event(
        api,
        f"{friend}-buy",
        "purchase",
        friend,
        at,
        order_id=order or f"o-{friend}",
        amount={"amount_minor": amount, "currency": "CNY"},
    )


def _alice_rewards(tenant):
    return Reward.objects.for_tenant(tenant).filter(participant__external_id="alice").order_by("id")


def test_a_success_pays_after_the_7_day_window_and_a_refund_inside_it_pays_nothing(
    tenant, api, shop
):
    program, code = shop
    with time_machine.travel(T0, tick=False):
        _refer(api, code, "f1", T0)
        _refer(api, code, "f2", T0)
        _tick()
    with time_machine.travel(T0 + timedelta(days=3), tick=False):
        _event(
            api,
            "f2-refund",
            "refund",
            "f2",
            T0 + timedelta(days=3),
            order_id="o-f2",
            amount={"amount_minor": 12000, "currency": "CNY"},
        )
        _tick()
    pending = {
        (r.referral.referee.external_id, r.reason): r.status
        for r in _alice_rewards(tenant)
        if r.referral_id
    }
    assert pending[("f1", "stage:success_points")] == "pending"
    assert pending[("f2", "stage:success_points")] == "reversed"
    # The refund came inside the window and reversed everything it could have paid: the
    # referral goes back to signed-up, and no one is asked to review it.
    f2 = Referral.objects.for_tenant(tenant).get(referee__external_id="f2")
    assert (f2.status, f2.status_before_review) == ("pending", "")
    assert not ReviewCase.objects.for_tenant(tenant).exists()
    with time_machine.travel(T0 + timedelta(days=7, hours=2), tick=False):
        _tick()
    with time_machine.travel(T0 + timedelta(days=14, hours=2), tick=False):
        _tick()  # the choice deadline has passed: the default ¥25 coupon applies
    rows = {
        (r.referral.referee.external_id, r.reason): r
        for r in _alice_rewards(tenant)
        if r.referral_id
    }
    assert rows[("f1", "stage:success_points")].status == "fulfilled"
    assert rows[("f1", "stage:referrer_choice")].status == "fulfilled"
    assert rows[("f1", "stage:referrer_choice")].amount_minor == 2500
    assert rows[("f1", "stage:lottery_ticket")].status == "fulfilled"
    assert {
        rows[("f2", r)].status
        for r in ("stage:success_points", "stage:referrer_choice", "stage:lottery_ticket")
    } == {"reversed"}
    alice_id = rows[("f1", "stage:success_points")].participant_id
    # Her one ticket took part in the weekly draw of 17 April (90 prizes): it won one prize.
    prize = _alice_rewards(tenant).get(reason__startswith="lottery:weekly-2026-W16:")
    assert prize.reason.endswith(f":{rows[('f1', 'stage:lottery_ticket')].pk}")
    expected_cash = 2500 + (prize.amount_minor or 0)
    assert ledger.balances(tenant.pk, ledger.participant_account(alice_id)) == {
        "CNY": expected_cash,
        "points": 300,
    }
    assert ledger.verify_ledger(tenant.pk) == []
    friend_coupon = Reward.objects.for_tenant(tenant).get(
        participant__external_id="f1", reason="stage:referee_coupon"
    )
    assert friend_coupon.status == "fulfilled" and friend_coupon.details["code"]


def test_three_successes_in_a_month_reach_the_ladder_and_the_weekly_draw_is_verifiable(
    tenant, api, shop
):
    program, code = shop
    with time_machine.travel(T0, tick=False):
        for friend in ("f1", "f2", "f3"):
            _refer(api, code, friend, T0)
        _tick()
    with time_machine.travel(T0 + timedelta(days=7, hours=2), tick=False):
        _tick()
    tier = {r.reason: r for r in _alice_rewards(tenant).filter(scope="period:2026-04")}
    assert set(tier) == {"tier:ladder_3_coupon", "tier:ladder_3_points"}
    # The week of 13 April: committed at its first tick, drawn after Friday.
    draw = LotteryDraw.objects.for_tenant(tenant).get(draw_key="weekly", period_key="2026-W16")
    assert draw.drawn_at is None and draw.seed_hash == seed_commitment(draw.seed)
    with time_machine.travel(T0 + timedelta(days=12), tick=False):
        _tick()
    draw.refresh_from_db()
    assert draw.drawn_at is not None and len(draw.tickets) == 3
    assert sorted(w["ticket"] for w in draw.winners) == sorted(draw.tickets)  # 90 prizes, 3 tickets
    assert seed_commitment(draw.seed) == draw.seed_hash
    prizes = Reward.objects.for_tenant(tenant).filter(reason__startswith="lottery:weekly-2026-W16:")
    assert prizes.count() == 3
    assert not LedgerEntry.objects.for_tenant(tenant).filter(reward_kind="lottery_ticket").exists()
