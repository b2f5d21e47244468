"""A paused program (programs.pause): links keep redirecting, a sign-up opens no referral,
a new enrolment answers `program_paused`, the portal and the invite page say so and offer
nothing to share, and a referral already in flight keeps earning its stages and payouts."""

from __future__ import annotations

from datetime import timedelta

import time_machine
from django.test import Client

from programs.pause import PAUSED_REASON, enrollment_reasons, new_referrals_paused
from programs.services import program_set_status
from programs.tests.conftest import signed_in
from rewards.models import Reward
from tracking.models import Event, Participant, Referral

from .conftest import T0, portal_client, post_event, refer, tick


def _pause(program):
    program_set_status(program=program, status="paused", actor=None)
    program.refresh_from_db()


def test_the_rule():
    assert new_referrals_paused("paused") is True
    assert [new_referrals_paused(s) for s in ("draft", "active", "ended")] == [False] * 3
    assert enrollment_reasons("paused", []) == ["program_paused"]
    assert enrollment_reasons("paused", ["phone_verified"]) == ["program_paused", "phone_verified"]
    assert enrollment_reasons("active", ["phone_verified"]) == ["phone_verified"]


def test_links_keep_redirecting_and_a_sign_up_opens_no_referral(api, tenant, shop):
    program, code, _alice = shop
    _pause(program)
    response = Client().get(f"/r/{code}")
    assert response.status_code == 302
    assert response["Location"].startswith("https://shop.example.com/?ref=" + code)

    with time_machine.travel(T0, tick=False):
        refer(api, code, "mia", T0, email="mia@example.net", buy=False)
        tick()
    mia = Participant.objects.for_tenant(tenant).get(external_id="mia")
    # The event is processed (the participant is known), but nothing is attributed.
    assert Event.objects.for_tenant(tenant).get(event_id="mia-signup").status == "processed"
    assert Referral.objects.for_tenant(tenant).filter(referee=mia).count() == 0
    assert Reward.objects.for_tenant(tenant).count() == 0

    # After the pause, the next friend is referred as before.
    program_set_status(program=program, status="active", actor=None)
    with time_machine.travel(T0 + timedelta(hours=1), tick=False):
        refer(api, code, "noa", T0 + timedelta(hours=1), email="noa@example.net", buy=False)
        tick()
    assert Referral.objects.for_tenant(tenant).filter(referee__external_id="noa").count() == 1


def test_a_referral_in_flight_keeps_earning_during_the_pause(api, tenant, shop):
    program, code, alice = shop
    with time_machine.travel(T0, tick=False):
        refer(api, code, "lena", T0, email="lena@example.net", buy=False)
        tick()
    referral = Referral.objects.for_tenant(tenant).get(referee__external_id="lena")
    assert referral.status == "pending"
    _pause(program)
    with time_machine.travel(T0 + timedelta(days=1), tick=False):
        post_event(
            api, "lena-buy", "purchase", "lena", T0 + timedelta(days=1),
            order_id="o-lena", amount={"amount_minor": 12000, "currency": "CNY"},
        )  # fmt: skip
        tick()
    referral.refresh_from_db()
    assert referral.status == "converted"
    choice = Reward.objects.for_tenant(tenant).get(
        participant=alice, referral=referral, rule_key="referrer_choice"
    )
    assert (choice.kind, choice.amount_minor, choice.status) == ("coupon", 2500, "pending")
    assert choice.due_at == T0 + timedelta(days=8)
    # Past the 7-day hold and the choice's deadline, still paused: the reward is released.
    with time_machine.travel(
        max(choice.due_at, choice.choice_deadline) + timedelta(hours=1), tick=False
    ):
        tick()
    choice.refresh_from_db()
    assert choice.status == "fulfilled"  # released and paid out


def test_a_new_enrolment_answers_program_paused(api, tenant, shop):
    program, _code, _alice = shop
    api.post(
        "/api/v1/participants",
        {"external_id": "bea", "email": "bea@example.test",
         "attributes": {"orders_count": 3, "phone_verified": True}},
        format="json",
    )  # fmt: skip
    _pause(program)
    body = api.post(
        "/api/v1/programs/green-home/enrollments", {"participant": "bea"}, format="json"
    ).json()
    assert body["eligible"] is False
    assert body["ineligible_reasons"] == [PAUSED_REASON]
    assert set(body) >= {"code", "url", "qr_png_url", "poster_png_url", "held_out"}

    program_set_status(program=program, status="active", actor=None)
    again = api.post(
        "/api/v1/programs/green-home/enrollments", {"participant": "bea"}, format="json"
    ).json()
    assert (again["eligible"], again["ineligible_reasons"]) == (True, [])


def test_the_portal_and_the_invite_page_say_paused_and_offer_nothing_to_share(api, tenant, shop):
    program, code, _alice = shop
    portal = portal_client(api, "alice")
    html = portal.get("/portal/").content.decode()
    assert 'data-testid="program-paused"' not in html
    assert "Copy link" in html

    _pause(program)
    html = portal.get("/portal/").content.decode()
    assert 'data-testid="program-paused"' in html
    assert "This program is paused: there is nothing to share for now." in html
    assert "Copy link" not in html
    assert "Download poster" not in html
    assert 'data-share="whatsapp"' not in html

    invite = Client(HTTP_ACCEPT_LANGUAGE="en")
    html = invite.get(f"/i/{code}").content.decode()
    assert "This referral program is paused" in html
    assert 'data-testid="lead-form"' not in html
    # A form posted anyway signs no one up.
    response = invite.post(
        f"/i/{code}", {"name": "Zed", "email": "zed@example.net", "consent": "on"}
    )
    assert response.status_code == 200
    assert not Participant.objects.for_tenant(tenant).filter(email="zed@example.net").exists()

    chinese = Client(HTTP_ACCEPT_LANGUAGE="zh-CN").get(f"/i/{code}").content.decode()
    assert "推荐计划已暂停" in chinese


def test_the_pause_confirmation_says_what_a_pause_does(marketer, shop):
    client = signed_in(marketer)
    html = client.post("/app/programs/green-home/status/", {"status": "paused"}).content.decode()
    assert "While paused, links and codes keep redirecting" in html
    assert "Sign-ups during the pause create no new referral" in html
    assert "Referrals already in flight keep earning their stages and payouts" in html
    zh = client.post(
        "/app/programs/green-home/status/", {"status": "paused"}, HTTP_ACCEPT_LANGUAGE="zh-hans"
    ).content.decode()
    assert "暂停期间，链接和邀请码照常跳转" in zh
