"""saas-b2b (SCENARIOS A) end to end: the events API → tracking → engine → rewards → ledger,
with events dated in the past and `tick` under a travelling clock."""

from datetime import timedelta

import pytest
import time_machine
from django.test import Client

from programs.services import program_create
from programs.templates_data.saas_b2b import saas_b2b_spec
from rewards import ledger
from rewards.models import LedgerEntry, Payout, PeriodClose, Reward
from tests.scenario import event as _event
from tests.scenario import local
from tests.scenario import participant as _participant
from tests.scenario import referral_rewards as _referral_rewards
from tests.scenario import tick as _tick
from tracking.models import Referral


@pytest.fixture
def saas(tenant, api):
    spec = saas_b2b_spec(2026)
    program_create(tenant=tenant, spec=spec, actor=None)
    codes = {}
    for admin in ("admin", "lead2", "lead3", "lead4"):
        _participant(api, admin, segments=["paying"], attributes={"in_arrears": False})
        enrolled = api.post(
            "/api/v1/programs/saas-b2b/enrollments", {"participant": admin}, format="json"
        )
        assert enrolled.status_code == 201 and enrolled.json()["eligible"], enrolled.content
        codes[admin] = enrolled.json()["code"]
    return codes


def _signup(api, code, team, at):
    _event(api, f"{team}-signup", "signup", team, at, referral={"code": code})


def _lead(api, team, at):
    _event(api, f"{team}-mql", "qualified_lead", team, at, properties={"verified": True})


def _annual(api, team, at, amount=200000, **properties):
    _event(
        api,
        f"{team}-annual",
        "purchase",
        team,
        at,
        order_id=f"inv-{team}",
        amount={"amount_minor": amount, "currency": "CNY"},
        properties={"billing_period": "annual", "seats": 12, **properties},
    )


def _rewards(tenant, who):
    return {
        r.reason: r
        for r in Reward.objects.for_tenant(tenant)
        .filter(participant__external_id=who)
        .order_by("id")
    }


def _payout(tenant, reward):
    [payout] = Payout.objects.for_tenant(tenant).filter(reward=reward)
    return payout


def _pay_out(tenant, api, reward):
    payout = _payout(tenant, reward)
    response = api.post(f"/api/v1/payouts/{payout.pk}/paid", {}, format="json")
    assert response.status_code == 200, response.content
    reward.refresh_from_db()


def _balance(tenant, who):
    participant_id = Reward.objects.for_tenant(tenant).filter(participant__external_id=who)[0]
    return ledger.balances(tenant.pk, ledger.participant_account(participant_id.participant_id))


def test_a_qualified_lead_pays_the_referrer_50_and_the_portal_expects_it_two_business_days_on(
    tenant, api, saas
):
    signup = local(1, 9)  # a Friday
    with time_machine.travel(signup, tick=False):
        _signup(api, saas["admin"], "t1", signup)
        _tick()
        session = api.post("/api/v1/portal-sessions", {"participant": "admin"}, format="json")
        portal = Client()
        page = portal.get(session.json()["url"], follow=True)
    # Two business days after a Friday sign-up: Tuesday 13 January.
    assert "Next: Qualified, expected Jan. 13, 2026" in page.content.decode()
    assert _referral_rewards(tenant, "t1") == {}

    lead = local(1, 12)
    with time_machine.travel(lead, tick=False):
        _lead(api, "t1", lead)
        _tick()
    referral = Referral.objects.for_tenant(tenant).get(referee__external_id="t1")
    assert referral.status == "qualified"
    mql = _referral_rewards(tenant, "t1")
    assert set(mql) == {("admin", "stage:mql_cash")}
    cash = mql["admin", "stage:mql_cash"]
    # No hold on the lead: released at once and handed to the weekly payout batch (≤ ¥100).
    assert (cash.kind, cash.amount_minor, cash.status, cash.due_at) == (
        "cash",
        5000,
        "approved",
        lead,
    )
    assert cash.cap_slot == "quarterly_base|2026-Q1"
    payout = _payout(tenant, cash)
    assert (payout.status, payout.batch.cadence, payout.batch.period_key) == (
        "requested",
        "week",
        "2026-W03",
    )
    assert not LedgerEntry.objects.for_tenant(tenant).exists()
    with time_machine.travel(lead + timedelta(days=3), tick=False):
        _pay_out(tenant, api, cash)
    assert cash.status == "fulfilled"
    assert _balance(tenant, "admin") == {"CNY": 5000}
    assert ledger.verify_ledger(tenant.pk) == []


def test_the_first_annual_payment_pays_150_and_gives_the_referee_the_offer_taken_at_checkout(
    tenant, api, saas
):
    signup, paid = local(1, 9), local(2, 2)
    with time_machine.travel(paid, tick=False):
        for team in ("t1", "t2", "t3", "t4"):
            _signup(api, saas["admin"], team, signup)
        _annual(api, "t1", paid)  # no offer reported: the default, first year 10% off
        _annual(api, "t2", paid, offer_choice="one_month_free")
        _annual(api, "t3", paid, amount=167999)  # below ¥1,680
        _event(
            api,
            "t4-monthly",
            "purchase",
            "t4",
            paid,
            order_id="inv-t4",
            amount={"amount_minor": 200000, "currency": "CNY"},
            properties={"billing_period": "monthly"},
        )
        _tick()
    statuses = dict(
        Referral.objects.for_tenant(tenant).values_list("referee__external_id", "status")
    )
    assert statuses == {"t1": "converted", "t2": "converted", "t3": "pending", "t4": "pending"}
    assert _referral_rewards(tenant, "t3") == _referral_rewards(tenant, "t4") == {}

    first = _referral_rewards(tenant, "t1")
    assert set(first) == {("admin", "stage:paid_cash"), ("t1", "stage:referee_offer")}
    cash = first["admin", "stage:paid_cash"]
    assert (cash.amount_minor, cash.status, cash.cap_slot) == (
        15000,
        "approved",
        "quarterly_base|2026-Q1",
    )
    # Above ¥100: the quarterly settlement.
    assert _payout(tenant, cash).batch.period_key == "2026-Q1"
    offer = first["t1", "stage:referee_offer"]
    assert (
        offer.kind,
        offer.status,
        offer.details["percent_off"],
        offer.details["max_amount"],
    ) == (
        "coupon",
        "fulfilled",
        10,
        50000,
    )
    assert offer.details["code"]
    assert [(o["key"], o["chosen"]) for o in offer.options] == [
        ("ten_percent_off", True),
        ("one_month_free", False),
    ]
    month_free = _referral_rewards(tenant, "t2")["t2", "stage:referee_offer"]
    assert (month_free.kind, month_free.details["duration_days"], month_free.status) == (
        "credit",
        30,
        "fulfilled",
    )
    with time_machine.travel(paid + timedelta(days=60), tick=False):
        _pay_out(tenant, api, cash)
        _pay_out(tenant, api, _referral_rewards(tenant, "t2")["admin", "stage:paid_cash"])
    assert _balance(tenant, "admin") == {"CNY": 30000}
    # The referee's offers are issued, not money on the referrer's account.
    assert ledger.balances(tenant.pk, ledger.participant_account(offer.participant_id)) == {}


def _retained(api, code, team, paid, active_at, **activity):
    _signup(api, code, team, paid - timedelta(days=20))
    _annual(api, team, paid)
    _event(api, f"{team}-active", "activity", team, active_at, properties=activity)


def test_retention_at_ninety_days_is_paid_by_tick_alone_as_cash_or_the_chosen_voucher(
    tenant, api, saas
):
    paid = local(2, 2)
    active = local(3, 2)
    with time_machine.travel(active, tick=False):
        _retained(api, saas["admin"], "t1", paid, active, monthly_active_rate=0.35)
        _retained(api, saas["admin"], "t2", paid, active, kind="module_enabled", modules_enabled=2)
        _retained(api, saas["admin"], "t3", paid, active, monthly_active_rate=0.1)
        _tick()
    statuses = dict(
        Referral.objects.for_tenant(tenant).values_list("referee__external_id", "status")
    )
    assert statuses == {"t1": "retained", "t2": "retained", "t3": "converted"}
    retention = _referral_rewards(tenant, "t1")["admin", "stage:retention_reward"]
    ninety_days = paid + timedelta(days=90)
    assert (retention.status, retention.hold_reason, retention.due_at) == (
        "pending",
        "choice",
        ninety_days,
    )
    assert retention.choice_deadline == ninety_days + timedelta(days=7)
    assert ("admin", "stage:retention_reward") not in _referral_rewards(tenant, "t3")

    # The referrer takes the voucher for t2 in the portal; t1 is left to the default.
    voucher = _referral_rewards(tenant, "t2")["admin", "stage:retention_reward"]
    with time_machine.travel(active + timedelta(days=5), tick=False):
        session = api.post("/api/v1/portal-sessions", {"participant": "admin"}, format="json")
        portal = Client()
        portal.get(session.json()["url"])
        chosen = portal.post(
            f"/portal/rewards/{voucher.pk}/choose/", {"option": 1, "confirm": "yes"}
        )
        assert chosen.status_code == 302
    voucher.refresh_from_db()
    assert (voucher.kind, voucher.amount_minor, voucher.hold_reason) == ("coupon", 10000, "hold")

    # No event arrives after 2 March: the sweeps alone pay at 90 days.
    _tick(ninety_days - timedelta(hours=2))
    retention.refresh_from_db()
    voucher.refresh_from_db()
    assert (retention.status, voucher.status) == ("pending", "pending")
    _tick(ninety_days)
    retention.refresh_from_db()
    voucher.refresh_from_db()
    assert retention.status == "pending"  # the choice window runs 7 days past the 90
    assert voucher.status == "fulfilled" and voucher.details["code"]
    _tick(ninety_days + timedelta(days=7))
    retention.refresh_from_db()
    assert (retention.kind, retention.amount_minor, retention.status) == ("cash", 10000, "approved")
    assert _payout(tenant, retention).batch.cadence == "week"
    with time_machine.travel(ninety_days + timedelta(days=8), tick=False):
        _pay_out(tenant, api, retention)
    entries = LedgerEntry.objects.for_tenant(tenant).filter(reward__reason="stage:retention_reward")
    assert sorted((e.reward_kind, e.amount_minor, e.entry_kind) for e in entries) == [
        ("cash", 10000, "credit"),
        ("coupon", 10000, "credit"),
    ]


def test_a_refund_inside_the_ninety_day_hold_reverses_the_retention_reward(tenant, api, saas):
    paid, active = local(2, 2), local(3, 2)
    with time_machine.travel(active, tick=False):
        _retained(api, saas["admin"], "t1", paid, active, monthly_active_rate=0.35)
        _retained(api, saas["admin"], "t2", paid, active, monthly_active_rate=0.35)
        _tick()
    refund_at = local(3, 20)
    with time_machine.travel(refund_at, tick=False):
        _event(
            api,
            "t1-refund",
            "refund",
            "t1",
            refund_at,
            order_id="inv-t1",
            amount={"amount_minor": 200000, "currency": "CNY"},
        )
        _event(
            api,
            "t2-cancel",
            "activity",
            "t2",
            refund_at,
            properties={"kind": "subscription_cancelled"},
        )
        _tick()
    for team in ("t1", "t2"):
        rows = _referral_rewards(tenant, team)
        retention = rows["admin", "stage:retention_reward"]
        assert (retention.status, retention.reversed_at) == (
            "reversed",
            refund_at + timedelta(minutes=1),
        )
        # Its slot was freed; the paid stage had no hold and clawback_days is 0: kept.
        assert retention.slot_freed
        assert rows["admin", "stage:paid_cash"].status == "approved"
    statuses = dict(
        Referral.objects.for_tenant(tenant).values_list("referee__external_id", "status")
    )
    assert statuses == {"t1": "converted", "t2": "converted"}
    _tick(paid + timedelta(days=100))
    assert {
        r.status for r in Reward.objects.for_tenant(tenant).filter(reason="stage:retention_reward")
    } == {"reversed"}
    assert (
        not LedgerEntry.objects.for_tenant(tenant)
        .filter(reward__reason="stage:retention_reward")
        .exists()
    )


def test_the_eleventh_referral_of_a_quarter_earns_honor_points_and_the_next_quarter_pays_again(
    tenant, api, saas
):
    # One qualified lead a day from 5 January; each day's events processed by that day's tick.
    for n in range(1, 12):
        day = local(1, 4 + n, hour=9 + n % 8)
        with time_machine.travel(day, tick=False):
            _signup(api, saas["admin"], f"t{n}", day - timedelta(hours=3))
            _lead(api, f"t{n}", day)
            _tick()
    cash = {
        r.referral.referee.external_id: r
        for r in Reward.objects.for_tenant(tenant)
        .filter(reason="stage:mql_cash")
        .select_related("referral__referee")
    }
    assert [cash[f"t{n}"].status for n in range(1, 11)] == ["approved"] * 10
    eleventh = cash["t11"]
    assert (eleventh.status, eleventh.blocked_reason, eleventh.cap_slot) == (
        "capped",
        "cap:quarterly_base",
        "",
    )
    # The capped referral pays: no cash, 100 honor points instead.
    paid = local(2, 2)
    with time_machine.travel(paid, tick=False):
        _annual(api, "t11", paid)
        _tick()
    rows = _referral_rewards(tenant, "t11")
    assert (
        rows["admin", "stage:paid_cash"].status,
        rows["admin", "stage:paid_cash"].blocked_reason,
    ) == (
        "capped",
        "cap:quarterly_base",
    )
    honor = rows["admin", "honor:honor_points"]
    assert (honor.kind, honor.points, honor.status) == ("points", 100, "fulfilled")
    # The referee's offer is not capped.
    assert rows["t11", "stage:referee_offer"].status == "fulfilled"
    points = LedgerEntry.objects.for_tenant(tenant).filter(reward=honor)
    assert [(e.entry_kind, e.points, e.amount_minor) for e in points] == [("credit", 100, 0)]
    assert _balance(tenant, "admin") == {"points": 100}  # the cash is not paid out yet

    # Eleven qualified leads in the season: bronze (3), silver (5) and gold (8), once each.
    tiers = {
        r.reason: r
        for r in Reward.objects.for_tenant(tenant).filter(
            participant__external_id="admin", reason__startswith="tier:"
        )
    }
    assert {reason: (r.scope, r.due_at) for reason, r in tiers.items()} == {
        "tier:bronze_badge": ("period:2026-Q1", local(1, 7, hour=12)),
        "tier:silver_reward": ("period:2026-Q1", local(1, 9, hour=14)),
        "tier:gold_reward": ("period:2026-Q1", local(1, 12, hour=9)),
    }
    # Nobody chose within 7 days: the defaults (1 month Pro, the VIP ticket) were given.
    assert {reason: (r.description, r.status) for reason, r in tiers.items()} == {
        "tier:bronze_badge": ("Avatar frame + e-certificate", "fulfilled"),
        "tier:silver_reward": ("1 month Pro", "fulfilled"),
        "tier:gold_reward": ("Early access + conference VIP ticket", "fulfilled"),
    }

    # A new quarter, a new slot.
    april = local(4, 8)
    with time_machine.travel(april, tick=False):
        _signup(api, saas["admin"], "t12", april - timedelta(days=1))
        _lead(api, "t12", april)
        _tick()
    fresh = _referral_rewards(tenant, "t12")["admin", "stage:mql_cash"]
    assert (fresh.status, fresh.amount_minor, fresh.cap_slot) == (
        "approved",
        5000,
        "quarterly_base|2026-Q2",
    )


def test_the_double_mql_week_pays_80_for_a_lead_in_the_first_full_week_of_march(tenant, api, saas):
    # 1 March 2026 is a Sunday: the week runs Monday 2 to Sunday 8 March.
    with time_machine.travel(local(3, 10), tick=False):
        for team, day in (
            ("t1", local(3, 1, 23)),
            ("t2", local(3, 2, 0)),
            ("t3", local(3, 8, 23)),
            ("t4", local(3, 9, 0)),
        ):
            _signup(api, saas["admin"], team, local(2, 20))
            _lead(api, team, day)
        _tick()
    paid = {
        r.referral.referee.external_id: (r.amount_minor, r.boost, r.status)
        for r in Reward.objects.for_tenant(tenant)
        .filter(reason="stage:mql_cash")
        .select_related("referral__referee")
    }
    assert paid == {
        "t1": (5000, "", "approved"),
        "t2": (8000, "double_mql_week", "approved"),
        "t3": (8000, "double_mql_week", "approved"),
        "t4": (5000, "", "approved"),
    }


def test_april_gives_the_referee_an_extra_free_month(tenant, api, saas):
    paid = local(4, 10)
    with time_machine.travel(paid, tick=False):
        _signup(api, saas["admin"], "t1", local(3, 20))
        _annual(api, "t1", paid, offer_choice="one_month_free")
        _tick()
    offer = _referral_rewards(tenant, "t1")["t1", "stage:referee_offer"]
    assert (offer.kind, offer.details["duration_days"], offer.boost, offer.status) == (
        "credit",
        60,
        "referee_extra_month_04",
        "fulfilled",
    )


def test_the_season_closes_with_prizes_for_the_top_three_with_two_paid_referrals(tenant, api, saas):
    paid_days = {
        "admin": [local(1, 20), local(2, 3), local(3, 3)],
        "lead2": [local(1, 21), local(2, 4)],
        "lead3": [local(2, 10), local(3, 12)],  # as many as lead2, reached later
        "lead4": [local(1, 22)],  # one paid referral: not ranked
    }
    referrals = sorted(
        (day, referrer, f"{referrer}-t{n}")
        for referrer, days in paid_days.items()
        for n, day in enumerate(days)
    )
    for day, referrer, team in referrals:
        with time_machine.travel(day, tick=False):
            _signup(api, saas[referrer], team, day - timedelta(days=10))
            _lead(api, team, day - timedelta(days=5))
            _annual(api, team, day)
            _tick()
    seasons = PeriodClose.objects.for_tenant(tenant).filter(kind="season")
    assert not seasons.filter(period_key="2026-Q1").exists()
    season_end = local(4, 1, hour=0)
    _tick(season_end)
    close = seasons.get(period_key="2026-Q1")
    assert [row["reason"] for row in close.result] == ["season:1", "season:2", "season:3"]
    prizes = {
        r.participant.external_id: r
        for r in Reward.objects.for_tenant(tenant)
        .filter(reason__startswith="season:")
        .select_related("participant")
    }
    assert {who: (r.reason, r.amount_minor, r.scope, r.status) for who, r in prizes.items()} == {
        "admin": ("season:1", 50000, "period:2026-Q1", "pending"),
        "lead2": ("season:2", 30000, "period:2026-Q1", "pending"),
        "lead3": ("season:3", 20000, "period:2026-Q1", "pending"),
    }
    first = prizes["admin"]
    assert (first.due_at, first.choice_deadline) == (season_end, season_end + timedelta(days=7))
    assert [o["key"] for o in first.options] == ["cash", "voucher"]
    _tick(season_end + timedelta(days=7))
    first.refresh_from_db()
    assert (first.kind, first.status) == ("cash", "approved")
    assert _payout(tenant, first).batch.period_key == "2026-Q2"
    # A second close of the same season changes nothing.
    _tick(season_end + timedelta(days=8))
    assert Reward.objects.for_tenant(tenant).filter(reason__startswith="season:").count() == 3


def test_only_the_first_referred_team_of_a_company_earns_the_qualified_lead_reward(
    tenant, api, saas
):
    """SCENARIOS A: two teams of one company (the same company email domain, or the same
    `company_id` behind free mail) referred by two admins: only the first one counts."""
    signup, lead = local(1, 12), local(1, 14)
    teams = {
        "sales": ("admin", {"email": "sales@bigcorp.cn"}),
        "ops": ("lead2", {"email": "ops@bigcorp.cn"}),
        "t-one": ("admin", {"email": "one@gmail.com", "attributes": {"company_id": "C-7"}}),
        "t-two": ("lead3", {"email": "two@gmail.com", "attributes": {"company_id": "c-7"}}),
        "solo": ("lead4", {"email": "solo@gmail.com"}),
    }
    with time_machine.travel(lead, tick=False):
        for hour, (team, (admin, fields)) in enumerate(teams.items()):
            _participant(api, team, **fields)
            _signup(api, saas[admin], team, signup + timedelta(hours=3 * hour))
            _lead(api, team, lead - timedelta(hours=5 - hour))
        _tick()
    mql = {
        team: _referral_rewards(tenant, team)[teams[team][0], "stage:mql_cash"] for team in teams
    }
    assert {team: (r.status, r.blocked_reason) for team, r in mql.items()} == {
        "sales": ("approved", ""),
        "ops": ("rejected", "ineligible:company_already_referred"),
        "t-one": ("approved", ""),
        "t-two": ("rejected", "ineligible:company_already_referred"),
        "solo": ("approved", ""),
    }
    assert mql["sales"].amount_minor == 5000
