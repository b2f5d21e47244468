from datetime import timedelta

import time_machine
from django.test import Client

from fraud.models import Dispute
from rewards import ledger
from rewards.models import LedgerEntry, Reward
from tracking.models import Click, Enrollment, Event, Participant, Referral, ReferralCode

from .conftest import T0, portal_client, tick

NOW = T0 + timedelta(days=3, hours=1)
PHONE = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Mobile Safari/537.36"


def _friend() -> Client:
    return Client(HTTP_USER_AGENT=PHONE)


def _choice(tenant):
    return Reward.objects.for_tenant(tenant).get(
        participant__external_id="alice", reason="stage:referrer_choice", status="pending"
    )


def test_choosing_points_over_the_coupon_changes_the_reward_once_and_pays_only_at_release(
    api, busy_shop, tenant
):
    reward = _choice(tenant)
    assert (reward.kind, reward.amount_minor, reward.points) == ("coupon", 2500, None)
    with time_machine.travel(NOW, tick=False):
        client = portal_client(api, "alice")
        confirm = client.get(f"/portal/rewards/{reward.pk}/choose/", {"option": 1})
        assert confirm.status_code == 200
        assert "You are choosing <strong>250 green miles</strong>." in confirm.content.decode()
        assert "(expected on April 13, 2026)." in confirm.content.decode()  # still ahead
        # Asking is not choosing.
        reward.refresh_from_db()
        assert reward.chosen_at is None
        done = client.post(
            f"/portal/rewards/{reward.pk}/choose/", {"option": 1, "confirm": "yes"}, follow=True
        )
        assert "Done: you chose 250 green miles." in done.content.decode()
    reward.refresh_from_db()
    assert (reward.kind, reward.amount_minor, reward.points) == ("points", None, 250)
    assert [o["chosen"] for o in reward.options] == [False, True]
    assert reward.status == "pending"
    assert not LedgerEntry.objects.for_tenant(tenant).filter(reward=reward).exists()
    chosen_at = reward.chosen_at

    # A second choice, even of the other option, changes nothing.
    with time_machine.travel(NOW + timedelta(minutes=5), tick=False):
        client.post(f"/portal/rewards/{reward.pk}/choose/", {"option": 0, "confirm": "yes"})
    reward.refresh_from_db()
    assert (reward.kind, reward.points, reward.chosen_at) == ("points", 250, chosen_at)

    # At release the ledger gets exactly one entry for it, of 250 points.
    with time_machine.travel(T0 + timedelta(days=7, hours=2), tick=False):
        tick()
    reward.refresh_from_db()
    assert reward.status == "fulfilled"
    entries = list(LedgerEntry.objects.for_tenant(tenant).filter(reward=reward))
    assert [(e.entry_kind, e.points, e.amount_minor) for e in entries] == [("credit", 250, 0)]
    alice = Participant.objects.for_tenant(tenant).get(external_id="alice")
    assert ledger.balances(tenant.pk, ledger.participant_account(alice.pk)) == {"points": 550}


def test_a_choice_needs_an_option_and_cannot_touch_someone_elses_reward(api, busy_shop, tenant):
    reward = _choice(tenant)
    with time_machine.travel(NOW, tick=False):
        lena = portal_client(api, "lena")
        assert lena.get(f"/portal/rewards/{reward.pk}/choose/", {"option": 1}).status_code == 404
        assert (
            lena.post(
                f"/portal/rewards/{reward.pk}/choose/", {"option": 1, "confirm": "yes"}
            ).status_code
            == 404
        )
        alice = portal_client(api, "alice")
        missing = alice.get(f"/portal/rewards/{reward.pk}/choose/")
        assert missing.status_code == 302
    reward.refresh_from_db()
    assert reward.chosen_at is None


def test_a_dispute_is_filed_from_the_portal_and_listed_with_its_answer_date(api, busy_shop, tenant):
    referral = Referral.objects.for_tenant(tenant).get(referee__external_id="bob")
    with time_machine.travel(NOW, tick=False):
        client = portal_client(api, "alice")
        page = client.post(
            "/portal/dispute/",
            {"referral": referral.pk, "message": "Bob kept his order, the refund was a mistake."},
            follow=True,
        )
    html = page.content.decode()
    assert "We have your message and will answer within 5 business days." in html
    dispute = Dispute.objects.for_tenant(tenant).get()
    assert dispute.referral_id == referral.pk
    assert dispute.participant.external_id == "alice"
    # Thursday 9 April, 11:00 Shanghai + 5 business days = Thursday 16 April.
    assert "We will answer by April 16, 2026." in html


def test_an_empty_dispute_is_refused_and_nothing_is_written(api, busy_shop, tenant):
    client = portal_client(api, "alice")
    page = client.post("/portal/dispute/", {"message": "   "}, follow=True)
    assert "Tell us what went wrong." in page.content.decode()
    assert not Dispute.objects.for_tenant(tenant).exists()


def test_opting_out_stops_clicks_on_the_participants_link_being_recorded(api, shop, tenant):
    _program, code, alice = shop
    assert _friend().get(f"/r/{code}").status_code == 302
    assert Click.objects.for_tenant(tenant).filter(code=code).count() == 1

    client = portal_client(api, "alice")
    page = client.post("/portal/privacy/tracking/", {"opt_out": "1"}, follow=True)
    assert "Tracking is off: new clicks are not linked to you." in page.content.decode()
    alice.refresh_from_db()
    assert alice.opted_out_at is not None

    # The link still works for the friend, but the click is no longer attributed or stored.
    later = _friend().get(f"/r/{code}")
    assert later.status_code == 302
    assert Click.objects.for_tenant(tenant).filter(code=code).count() == 1

    client.post("/portal/privacy/tracking/", {"opt_out": "0"})
    alice.refresh_from_db()
    assert alice.opted_out_at is None
    _friend().get(f"/r/{code}")
    assert Click.objects.for_tenant(tenant).filter(code=code).count() == 2


def test_an_opted_out_customer_signing_up_through_a_link_is_not_attributed(api, shop, tenant):
    _program, code, _alice = shop
    api.post(
        "/api/v1/participants", {"external_id": "dan", "email": "dan@example.test"}, format="json"
    )
    dan_client = portal_client(api, "dan")
    dan_client.post("/portal/privacy/tracking/", {"opt_out": "1"})
    with time_machine.travel(T0, tick=False):
        api.post(
            "/api/v1/events",
            {"event_id": "dan-signup", "type": "signup", "occurred_at": T0.isoformat(),
             "participant": {"external_id": "dan"}, "referral": {"code": code}},
            format="json",
        )  # fmt: skip
    with time_machine.travel(T0 + timedelta(minutes=5), tick=False):
        tick()
    assert Event.objects.for_tenant(tenant).get(event_id="dan-signup").status == "processed"
    assert not Referral.objects.for_tenant(tenant).filter(referee__external_id="dan").exists()


def test_download_my_data_is_a_json_file_of_what_we_hold(api, busy_shop):
    with time_machine.travel(NOW, tick=False):
        response = portal_client(api, "alice").get("/portal/privacy/export.json")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="my-referral-data.json"'
    data = response.json()
    assert data["participant"]["email"] == "alice@example.test"
    assert data["participant"]["name"] == "Alice"
    assert len(data["referrals_made"]) == 3
    assert sorted(r["status"] for r in data["rewards"]) == ["pending"] * 3 + ["reversed"] * 3
    assert data["disputes"] == []


def test_deleting_my_data_wipes_identity_and_keeps_the_ledger_whole(api, busy_shop, tenant):
    for days in (7, 15):
        with time_machine.travel(T0 + timedelta(days=days, hours=2), tick=False):
            tick()
    alice = Participant.objects.for_tenant(tenant).get(external_id="alice")
    enrollment = Enrollment.objects.for_tenant(tenant).get(participant=alice)
    enrollment.personal_message = "Ask me about the bamboo towels!"
    enrollment.save()
    account = ledger.participant_account(alice.pk)
    before = ledger.balances(tenant.pk, account)
    # The ¥25 coupon and 300 points, plus whatever the weekly draw gave.
    assert before["points"] == 300 and before["CNY"] >= 2500
    entries_before = LedgerEntry.objects.for_tenant(tenant).count()

    with time_machine.travel(T0 + timedelta(days=16), tick=False):
        client = portal_client(api, "alice")
        assert "Delete my data" in client.get("/portal/privacy/delete/").content.decode()
        done = client.post("/portal/privacy/delete/", {"confirm": "yes"})
    assert done.status_code == 200
    assert "Your data is deleted" in done.content.decode()

    alice.refresh_from_db()
    enrollment.refresh_from_db()
    assert (alice.email, alice.email_hash, alice.phone, alice.name) == ("", "", "", "")
    assert alice.erased_at is not None and alice.opted_out_at is not None
    assert enrollment.personal_message == ""
    for event in Event.objects.for_tenant(tenant).filter(participant=alice):
        assert "alice@example.test" not in str(event.payload)
    # Amounts without identities: the same balance, the same entries, an intact hash chain.
    assert ledger.balances(tenant.pk, account) == before
    assert LedgerEntry.objects.for_tenant(tenant).count() == entries_before
    assert ledger.verify_ledger(tenant.pk) == []
    # The session is gone and the participant cannot be opened again.
    assert client.get("/portal/").status_code == 302
    assert (
        api.post("/api/v1/portal-sessions", {"participant": "alice"}, format="json").status_code
        == 404
    )


def test_a_release_date_already_past_is_not_given_as_expected(api, busy_shop, tenant):
    reward = _choice(tenant)
    with time_machine.travel(reward.due_at + timedelta(hours=1), tick=False):
        confirm = portal_client(api, "alice").get(
            f"/portal/rewards/{reward.pk}/choose/", {"option": 1}
        )
    assert "You receive it when the reward is released." in confirm.content.decode()
    assert "expected on" not in confirm.content.decode()


def test_a_customer_with_no_program_joins_one_from_the_portal_and_gets_a_link(
    api, busy_shop, tenant
):
    """DESIGN: a participant who opens the portal gets a link, as one the API enrolls."""
    program, _code, _alice = busy_shop
    with time_machine.travel(NOW, tick=False):
        lena = portal_client(api, "lena")
        home = lena.get("/portal/").content.decode()
        assert 'data-testid="no-program"' in home
        assert f'name="program" value="{program.slug}"' in home
        assert lena.post("/portal/join/", {"program": "no-such-program"}).status_code == 404
        joined = lena.post("/portal/join/", {"program": program.slug}, follow=True)
    page = joined.content.decode()
    enrollment = Enrollment.objects.for_tenant(tenant).get(participant__external_id="lena")
    code = ReferralCode.unscoped.get(enrollment=enrollment).code
    assert f"/r/{code}" in page and 'data-testid="no-program"' not in page
