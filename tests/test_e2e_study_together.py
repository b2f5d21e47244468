"""study-together (SCENARIOS C) end to end: the events API → tracking → engine → rewards →
ledger, with events dated in the past and `tick` under a travelling clock."""

from datetime import timedelta

import pytest
import time_machine
from django.test import Client

from fraud.models import Assessment, ReviewCase
from programs.services import program_create
from programs.templates_data.study_together import study_together_spec
from rewards import ledger
from rewards.models import LedgerEntry, Reward
from tests.scenario import event as _event
from tests.scenario import local
from tests.scenario import participant as _participant
from tests.scenario import referral_rewards as _referral_rewards
from tests.scenario import tick as _tick
from tracking.models import Referral


@pytest.fixture
def school(tenant, api):
    program_create(tenant=tenant, spec=study_together_spec(2026), actor=None)
    codes = {}
    for student in ("student", "leader", "solo"):
        _participant(api, student, name=student.title(), attributes={"study_weeks": 6})
        enrolled = api.post(
            "/api/v1/programs/study-together/enrollments", {"participant": student}, format="json"
        )
        assert enrolled.status_code == 201 and enrolled.json()["eligible"], enrolled.content
        codes[student] = enrolled.json()["code"]
    return codes


def _signup(api, code, friend, at):
    _event(api, f"{friend}-signup", "signup", friend, at, referral={"code": code} if code else {})


def _trial(api, friend, n, at):
    _event(
        api,
        f"{friend}-trial-{n}",
        "activity",
        friend,
        at,
        properties={"kind": "trial_lesson_attended"},
    )


def _course(api, friend, at, amount=198000, weeks=12, **properties):
    _event(
        api,
        f"{friend}-course",
        "purchase",
        friend,
        at,
        order_id=f"c-{friend}",
        amount={"amount_minor": amount, "currency": "CNY"},
        properties={"course_weeks": weeks, **properties},
    )


def _account(tenant, who):
    participant_id = (
        Referral.objects.for_tenant(tenant)
        .filter(referrer__external_id=who)
        .values_list("referrer_id", flat=True)[0]
    )
    return ledger.participant_account(participant_id)


def test_two_trial_lessons_pay_a_100_study_fund_and_one_is_not_enough(tenant, api, school):
    signup = local(3, 2)
    with time_machine.travel(local(3, 6), tick=False):
        for friend in ("f1", "f2"):
            _signup(api, school["student"], friend, signup)
            _trial(api, friend, 1, local(3, 3))
        _trial(api, "f1", 2, local(3, 5))
        _tick()
    statuses = dict(
        Referral.objects.for_tenant(tenant).values_list("referee__external_id", "status")
    )
    assert statuses == {"f1": "qualified", "f2": "pending"}
    f1 = _referral_rewards(tenant, "f1")
    fund = f1["student", "stage:trial_fund"]
    assert (fund.kind, fund.amount_minor, fund.details["valid_days"], fund.due_at, fund.status) == (
        "credit",
        10000,
        60,
        local(3, 5),
        "fulfilled",
    )
    # The friend's welcome: a 3-lesson trial pack and ¥300 off, issued at sign-up.
    discount = f1["f1", "stage:referee_discount"]
    assert (discount.kind, discount.amount_minor, discount.status) == ("coupon", 30000, "fulfilled")
    assert f1["f1", "stage:trial_pack"].status == "fulfilled"
    assert ("student", "stage:trial_fund") not in _referral_rewards(tenant, "f2")
    assert ledger.balances(tenant.pk, _account(tenant, "student")) == {"CNY": 10000}


def test_a_study_fund_is_valid_60_days_from_its_grant_in_the_api_and_the_portal(
    tenant, api, school
):
    granted = local(3, 6) + timedelta(minutes=1)
    with time_machine.travel(local(3, 6), tick=False):
        _signup(api, school["student"], "f1", local(3, 2))
        _trial(api, "f1", 1, local(3, 3))
        _trial(api, "f1", 2, local(3, 5))
        _tick()
    fund = _referral_rewards(tenant, "f1")["student", "stage:trial_fund"]
    assert (fund.status, fund.fulfilled_at, fund.expires_at) == (
        "fulfilled",
        granted,
        local(5, 5) + timedelta(minutes=1),
    )
    listed = api.get("/api/v1/rewards", {"participant": "student"}).json()["results"]
    assert [r["expires_at"] for r in listed if r["reason"] == "stage:trial_fund"] == [
        "2026-05-05T02:01:00+00:00"
    ]
    with time_machine.travel(local(3, 7), tick=False):
        session = api.post("/api/v1/portal-sessions", {"participant": "student"}, format="json")
        page = Client().get(session.json()["url"], follow=True).content.decode()
    assert (
        f'<li data-testid="reward" data-reward="{fund.pk}">'
        '<strong data-testid="reward-value">¥100 credit</strong> '
        '<span class="muted">¥100 study fund</span><br>'
        '<span class="state state-fulfilled">Received</span> · Received on '
        '<time data-testid="reward-date" datetime="2026-03-06T10:01:00+08:00">March 6, 2026'
        "</time> · valid until "
        '<time datetime="2026-05-05T10:01:00+08:00">May 5, 2026</time></li>'
    ) in page
    # Past its 60 days the fund was delivered all the same: still fulfilled, still credited.
    _tick(local(5, 6))
    fund.refresh_from_db()
    assert fund.status == "fulfilled"
    assert ledger.balances(tenant.pk, _account(tenant, "student")) == {"CNY": 10000}


def test_a_course_kept_seven_days_pays_300_or_the_chosen_diagnosis_and_50_to_charity(
    tenant, api, school, owner
):
    bought = local(3, 10)
    with time_machine.travel(bought, tick=False):
        for n, friend in enumerate(("f1", "f2", "f3", "f4", "f5")):
            _signup(api, school["student"], friend, local(3, 2 + n))
        _course(api, "f1", bought)
        _course(api, "f2", bought)
        _course(api, "f3", bought)
        _course(api, "f4", bought)
        _course(api, "f5", bought, weeks=8)  # too short to count
        _tick()
    statuses = dict(
        Referral.objects.for_tenant(tenant).values_list("referee__external_id", "status")
    )
    assert statuses == {f: "converted" for f in ("f1", "f2", "f3", "f4")} | {"f5": "pending"}
    kept = local(3, 17)
    fund = _referral_rewards(tenant, "f1")["student", "stage:success_fund"]
    assert (fund.amount_minor, fund.status, fund.hold_reason, fund.due_at) == (
        30000,
        "pending",
        "choice",
        kept,
    )
    assert fund.choice_deadline == kept + timedelta(days=14)
    donation = _referral_rewards(tenant, "f1")["student", "charity:charity_match"]
    assert (donation.kind, donation.amount_minor, donation.status) == ("donation", 5000, "pending")

    # Inside the 7 days: f3 asks for a refund, f4 transfers to another class.
    with time_machine.travel(local(3, 15, 12), tick=False):
        _event(
            api,
            "f3-refund",
            "refund",
            "f3",
            local(3, 14),
            order_id="c-f3",
            amount={"amount_minor": 198000, "currency": "CNY"},
        )
        _event(
            api,
            "f4-transfer",
            "activity",
            "f4",
            local(3, 15),
            properties={"kind": "class_transfer"},
        )
        # The student takes the speaking diagnosis for f2 in the portal.
        session = api.post("/api/v1/portal-sessions", {"participant": "student"}, format="json")
        portal = Client()
        portal.get(session.json()["url"])
        diagnosis = _referral_rewards(tenant, "f2")["student", "stage:success_fund"]
        chosen = portal.post(
            f"/portal/rewards/{diagnosis.pk}/choose/", {"option": 1, "confirm": "yes"}
        )
        assert chosen.status_code == 302
        _tick()
    for friend in ("f3", "f4"):
        rows = _referral_rewards(tenant, friend)
        assert {reason: r.status for (who, reason), r in rows.items() if who == "student"} == {
            "stage:success_fund": "reversed",
            "charity:charity_match": "reversed",
        }
    referrals = {
        r.referee.external_id: r
        for r in Referral.objects.for_tenant(tenant).select_related("referee")
    }
    assert {f: r.status for f, r in referrals.items()} == {
        "f1": "converted",
        "f2": "converted",
        "f3": "pending",
        "f4": "pending",
        "f5": "pending",
    }
    assert (referrals["f3"].reversed_at, referrals["f4"].reversed_at) == (
        local(3, 14),
        local(3, 15),
    )
    # Fraud scored f3's refund, which came inside the hold and left nothing to hold or
    # reject: nothing waits in the review queue.
    refund = Assessment.objects.for_tenant(tenant).get(
        referral=referrals["f3"], stage_key__startswith="refund:"
    )
    assert (refund.decision, refund.signals) == ("approve", [])
    assert not ReviewCase.objects.for_tenant(tenant).exists()

    _tick(kept)
    rows = {friend: _referral_rewards(tenant, friend) for friend in ("f1", "f2", "f3", "f4")}
    assert rows["f1"]["student", "stage:success_fund"].status == "pending"  # waits for a choice
    diagnosis = rows["f2"]["student", "stage:success_fund"]
    assert (diagnosis.kind, diagnosis.amount_minor, diagnosis.status) == ("perk", None, "fulfilled")
    assert {rows[f]["student", "charity:charity_match"].status for f in ("f1", "f2")} == {
        "fulfilled"
    }
    # The yearly ladder's first step: a teacher's speaking diagnosis.
    ladder = Reward.objects.for_tenant(tenant).get(
        participant__external_id="student", reason__startswith="tier:"
    )
    assert (ladder.reason, ladder.scope, ladder.status) == (
        "tier:year_1_diagnosis",
        "period:2026",
        "fulfilled",
    )

    _tick(kept + timedelta(days=14))
    fund.refresh_from_db()
    assert (fund.kind, fund.amount_minor, fund.status) == ("credit", 30000, "fulfilled")
    assert ledger.balances(tenant.pk, _account(tenant, "student")) == {"CNY": 30000}
    # The school's donations: ¥50 for each of the two successes kept, on the program's
    # charity account, the referrer's running total, and a certificate for each.
    program_id = donation.program_id
    charity = LedgerEntry.objects.for_tenant(tenant).filter(
        account=ledger.charity_account(program_id)
    )
    assert sorted(
        (e.entry_kind, e.amount_minor, e.reward.referral.referee.external_id) for e in charity
    ) == [
        ("credit", 5000, "f1"),
        ("credit", 5000, "f2"),
    ]
    assert ledger.balances(tenant.pk, ledger.charity_account(program_id)) == {"CNY": 10000}
    assert ledger.verify_ledger(tenant.pk) == []
    with time_machine.travel(kept + timedelta(days=15), tick=False):
        session = api.post("/api/v1/portal-sessions", {"participant": "student"}, format="json")
        page = Client().get(session.json()["url"], follow=True).content.decode()
    assert '<dd data-testid="charity">¥100</dd>' in page
    staff = Client()
    staff.force_login(owner)
    certificate = staff.get(f"/app/rewards/{donation.pk}/certificate.png")
    assert certificate.status_code == 200 and certificate["Content-Type"] == "image/png"
    assert certificate.content.startswith(b"\x89PNG")


def test_the_eleventh_success_of_a_month_is_capped_and_the_ladder_pays_at_one_three_and_five(
    tenant, api, school
):
    # A course a day from 2 March, each kept 7 days: eleven successes in March.
    for n in range(1, 12):
        day = local(3, 1 + n)
        with time_machine.travel(day, tick=False):
            _signup(api, school["student"], f"f{n}", day - timedelta(days=1))
            _course(api, f"f{n}", day)
            _tick()
    funds = {
        r.referral.referee.external_id: r
        for r in Reward.objects.for_tenant(tenant)
        .filter(reason="stage:success_fund")
        .select_related("referral__referee")
    }
    assert {funds[f"f{n}"].cap_slot for n in range(1, 11)} == {"monthly_successes|2026-03"}
    assert [funds[f"f{n}"].status for n in range(1, 11)] == ["pending"] * 10
    capped = funds["f11"]
    assert (capped.status, capped.blocked_reason, capped.cap_slot) == (
        "capped",
        "cap:monthly_successes",
        "",
    )
    # No honor item in this program; the school still donates for the eleventh success.
    assert set(_referral_rewards(tenant, "f11")) == {
        ("student", "stage:success_fund"),
        ("student", "charity:charity_match"),
        ("f11", "stage:trial_pack"),
        ("f11", "stage:referee_discount"),
    }
    _tick(local(3, 31))
    ladder = {
        r.reason: r
        for r in Reward.objects.for_tenant(tenant).filter(
            participant__external_id="student", reason__startswith="tier:"
        )
    }
    # Reached when the 1st, 3rd and 5th successes ended their hold (9, 11 and 13 March).
    assert {reason: (r.scope, r.due_at) for reason, r in ladder.items()} == {
        "tier:year_1_diagnosis": ("period:2026", local(3, 9)),
        "tier:year_3_reward": ("period:2026", local(3, 11)),
        "tier:year_5_reward": ("period:2026", local(3, 13)),
        "tier:year_5_certificate": ("period:2026", local(3, 13)),
    }
    assert [o["key"] for o in ladder["tier:year_3_reward"].options] == [
        "upgrade_voucher",
        "extra_weeks",
    ]
    assert ladder["tier:year_5_certificate"].status == "fulfilled"
    _tick(local(4, 20))
    assert Reward.objects.for_tenant(tenant).filter(reason__startswith="tier:").count() == 4
    assert [
        Reward.objects.for_tenant(tenant)
        .get(referral__referee__external_id=f"f{n}", reason="stage:success_fund")
        .status
        for n in range(1, 12)
    ] == ["fulfilled"] * 10 + ["capped"]
    program_id = capped.program_id
    assert ledger.balances(tenant.pk, ledger.charity_account(program_id)) == {"CNY": 11 * 5000}
    assert ledger.balances(tenant.pk, _account(tenant, "student")) == {"CNY": 10 * 30000}


def test_a_team_of_friends_paying_within_seven_days_gets_the_larger_discount_and_the_leader_a_fund(
    tenant, api, school
):
    code = school["leader"]
    with time_machine.travel(local(4, 12), tick=False):
        _signup(api, code, "m1", local(3, 25))  # referred by the leader: ¥300 off already
        _signup(api, code, "m2", local(3, 26))
        _signup(api, None, "m3", local(3, 27))  # not referred
        _signup(api, None, "m4", local(3, 28))
        _course(api, "m1", local(4, 1), team_code=code)
        _course(api, "m2", local(4, 3), amount=360000, weeks=24, team_code=code.lower())
        _course(api, "m3", local(4, 5), team_code=code)
        _course(api, "m4", local(4, 9), team_code=code)  # 8 days after the first payment
        _course(api, "m5", local(4, 2), team_code=school["solo"])  # a team of one
        _tick()
    scope = f"team:{code}"
    team = {
        (r.participant.external_id, r.reason): r
        for r in Reward.objects.for_tenant(tenant)
        .filter(scope__startswith="team:")
        .select_related("participant")
    }
    assert {key: (r.scope, r.kind, r.amount_minor) for key, r in team.items()} == {
        # ¥400 on a 24-week course against the ¥300 referee discount: topped up, never both.
        ("m2", "bonus:team_discount_long"): (scope, "coupon", 10000),
        ("m3", "bonus:team_discount"): (scope, "coupon", 30000),
        ("leader", "bonus:team_leader"): (scope, "credit", 20000),
    }
    assert {
        team[k].status for k in [("m2", "bonus:team_discount_long"), ("m3", "bonus:team_discount")]
    } == {"fulfilled"}
    assert all(
        team[k].details["code"]
        for k in [("m2", "bonus:team_discount_long"), ("m3", "bonus:team_discount")]
    )
    leader = team["leader", "bonus:team_leader"]
    # Complete when the second member paid (3 April) and due once that payment is kept 7 days
    # (a refund or a class transfer until then undoes it); the leader chooses within 14 days.
    assert (leader.side, leader.status, leader.hold_reason, leader.due_at) == (
        "referrer",
        "pending",
        "choice",
        local(4, 10),
    )
    assert [o["key"] for o in leader.options] == ["fund_200", "mock_interview"]
    assert leader.choice_deadline == local(4, 24)
    # Members' top-ups are due when their payment (and the team's completing one) is kept.
    assert (
        team["m2", "bonus:team_discount_long"].due_at,
        team["m3", "bonus:team_discount"].due_at,
    ) == (
        local(4, 10),
        local(4, 12),
    )
    _tick(local(4, 24))
    _tick(local(4, 25))
    leader.refresh_from_db()
    assert (leader.kind, leader.amount_minor, leader.status) == ("credit", 20000, "fulfilled")
    assert Reward.objects.for_tenant(tenant).filter(scope__startswith="team:").count() == 3
    assert LedgerEntry.objects.for_tenant(tenant).filter(reward=leader).get().amount_minor == 20000


def _team_rows(tenant):
    return {
        (r.participant.external_id, r.reason): r
        for r in Reward.objects.for_tenant(tenant)
        .filter(scope__startswith="team:")
        .select_related("participant")
    }


def _team_ledger(tenant):
    return sorted(
        (e.reward.participant.external_id, e.entry_kind, e.amount_minor, e.memo)
        for e in LedgerEntry.objects.for_tenant(tenant)
        .filter(reward__scope__startswith="team:")
        .select_related("reward__participant")
    )


def _refund(api, who, at, amount=198000):
    _event(
        api,
        f"{who}-refund",
        "refund",
        who,
        at,
        order_id=f"c-{who}",
        amount={"amount_minor": amount, "currency": "CNY"},
    )


def test_a_member_refunding_inside_the_hold_loses_only_their_team_discount_while_two_still_count(
    tenant, api, school
):
    code = school["leader"]
    with time_machine.travel(local(4, 6), tick=False):
        for n, member in enumerate(("m1", "m2", "m3")):
            _signup(api, None, member, local(3, 25 + n))
        _course(api, "m1", local(4, 1), team_code=code)
        _course(api, "m2", local(4, 3), team_code=code)
        _course(api, "m3", local(4, 5), team_code=code)
        _tick()
    before = _team_rows(tenant)
    assert {k: (r.status, r.amount_minor, r.due_at) for k, r in before.items()} == {
        ("m1", "bonus:team_discount"): ("pending", 30000, local(4, 10)),
        ("m2", "bonus:team_discount"): ("pending", 30000, local(4, 10)),
        ("m3", "bonus:team_discount"): ("pending", 30000, local(4, 12)),
        ("leader", "bonus:team_leader"): ("pending", 20000, local(4, 10)),
    }

    # m2 asks for a refund on 7 April, inside the 7 days after paying.
    with time_machine.travel(local(4, 7, 12), tick=False):
        _refund(api, "m2", local(4, 7))
        _tick()
    rows = _team_rows(tenant)
    assert {k: r.status for k, r in rows.items()} == {
        ("m1", "bonus:team_discount"): "pending",
        ("m2", "bonus:team_discount"): "reversed",
        ("m3", "bonus:team_discount"): "pending",
        ("leader", "bonus:team_leader"): "pending",
    }
    m2 = rows["m2", "bonus:team_discount"]
    assert (m2.reversed_at, m2.reversed_amount_minor) == (
        local(4, 7, 12) + timedelta(minutes=1),
        30000,
    )

    # The two who kept their course get their discounts; the leader's fund by default after
    # the 14-day choice; nothing for m2, however often the sweeps run.
    for day in (local(4, 12), local(4, 24), local(4, 25), local(4, 26)):
        _tick(day)
    rows = _team_rows(tenant)
    assert {k: (r.status, r.amount_minor) for k, r in rows.items()} == {
        ("m1", "bonus:team_discount"): ("fulfilled", 30000),
        ("m2", "bonus:team_discount"): ("reversed", 30000),
        ("m3", "bonus:team_discount"): ("fulfilled", 30000),
        ("leader", "bonus:team_leader"): ("fulfilled", 20000),
    }
    assert _team_ledger(tenant) == [
        ("leader", "credit", 20000, "bonus:team_leader"),
        ("m1", "credit", 30000, "bonus:team_discount"),
        ("m3", "credit", 30000, "bonus:team_discount"),
    ]
    assert ledger.verify_ledger(tenant.pk) == []


def test_a_two_member_team_losing_a_member_inside_the_hold_reverses_every_team_item_once(
    tenant, api, school
):
    code = school["leader"]
    with time_machine.travel(local(4, 3, 12), tick=False):
        for n, member in enumerate(("m1", "m2")):
            _signup(api, None, member, local(3, 25 + n))
        _course(api, "m1", local(4, 1), team_code=code)
        _course(api, "m2", local(4, 3), team_code=code)
        _tick()
        # The leader takes the ¥200 study fund now; it is released when the hold ends.
        session = api.post("/api/v1/portal-sessions", {"participant": "leader"}, format="json")
        portal = Client()
        portal.get(session.json()["url"])
        team = portal.get("/portal/").content.decode()
        assert f"2 members have paid with your code {code}." in team
        assert "Your team is complete: its rewards are shown below." in team
        fund = _team_rows(tenant)["leader", "bonus:team_leader"]
        chosen = portal.post(f"/portal/rewards/{fund.pk}/choose/", {"option": 0, "confirm": "yes"})
        assert chosen.status_code == 302
    _tick(local(4, 10))
    assert {k: r.status for k, r in _team_rows(tenant).items()} == {
        ("m1", "bonus:team_discount"): "fulfilled",
        ("m2", "bonus:team_discount"): "fulfilled",
        ("leader", "bonus:team_leader"): "fulfilled",
    }
    leader_account = ledger.participant_account(fund.participant_id)
    assert ledger.balances(tenant.pk, leader_account) == {"CNY": 20000}

    # m2's refund of 9 April (inside its 7 days) arrives late, on the 12th: one member's payment
    # still counts, so the team is no more and everything it paid is reversed, not clawed back.
    with time_machine.travel(local(4, 12), tick=False):
        _refund(api, "m2", local(4, 9))
        _tick()
    reversed_at = local(4, 12) + timedelta(minutes=1)
    rows = _team_rows(tenant)
    assert {k: (r.status, r.reversed_at, r.reversed_amount_minor) for k, r in rows.items()} == {
        ("m1", "bonus:team_discount"): ("reversed", reversed_at, 30000),
        ("m2", "bonus:team_discount"): ("reversed", reversed_at, 30000),
        ("leader", "bonus:team_leader"): ("reversed", reversed_at, 20000),
    }
    with time_machine.travel(local(4, 12, 12), tick=False):
        session = api.post("/api/v1/portal-sessions", {"participant": "leader"}, format="json")
        portal = Client()
        portal.get(session.json()["url"])
        team = portal.get("/portal/").content.decode()
    assert "Your team is complete" not in team
    assert "A team counts when 2 to 4 members pay within 7 days of the first payment." in team
    memo = f"team_reversed:{code}"
    assert _team_ledger(tenant) == [
        ("leader", "credit", 20000, "bonus:team_leader"),
        ("leader", "reversal", -20000, memo),
        ("m1", "credit", 30000, "bonus:team_discount"),
        ("m1", "reversal", -30000, memo),
        ("m2", "credit", 30000, "bonus:team_discount"),
        ("m2", "reversal", -30000, memo),
    ]
    assert ledger.balances(tenant.pk, leader_account) == {}

    # Running the sweeps again changes nothing and gives nothing anew.
    entries = LedgerEntry.objects.for_tenant(tenant).count()
    for day in (local(4, 13), local(4, 30)):
        _tick(day)
    assert {k: r.status for k, r in _team_rows(tenant).items()} == {k: "reversed" for k in rows}
    assert LedgerEntry.objects.for_tenant(tenant).count() == entries
    assert ledger.verify_ledger(tenant.pk) == []


def test_an_ineligible_team_leader_gets_a_blocked_item_with_the_reason_and_members_their_discounts(
    tenant, api, school
):
    code = school["leader"]
    # The leader has asked for a refund of their own course: no referrer rewards meanwhile.
    _participant(api, "leader", attributes={"refund_in_progress": True})
    with time_machine.travel(local(4, 3, 12), tick=False):
        for n, member in enumerate(("m1", "m2")):
            _signup(api, None, member, local(3, 25 + n))
        _course(api, "m1", local(4, 1), team_code=code)
        _course(api, "m2", local(4, 3), team_code=code)
        _tick()
    _tick(local(4, 10))
    _tick(local(4, 25))
    rows = _team_rows(tenant)
    assert {k: (r.status, r.blocked_reason, r.amount_minor) for k, r in rows.items()} == {
        ("m1", "bonus:team_discount"): ("fulfilled", "", 30000),
        ("m2", "bonus:team_discount"): ("fulfilled", "", 30000),
        ("leader", "bonus:team_leader"): ("rejected", "ineligible:no_refund_in_progress", 20000),
    }
    assert _team_ledger(tenant) == [
        ("m1", "credit", 30000, "bonus:team_discount"),
        ("m2", "credit", 30000, "bonus:team_discount"),
    ]
