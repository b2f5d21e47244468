"""A real holdout (SEMANTICS §10), set in the program spec's `holdout` section: a participant
the program holds out gets no link, offer, widget or reward — their existing code no longer
attributes, the portal refuses to share or redeem for them — and everyone else gets the
program as before. The overview's incrementality says when the groups are too small to tell."""

from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine
from django.test import Client

from pipeline.flow import referral_rewards_sync
from portal.tests.conftest import portal_client
from programs.holdout import in_holdout, seed_splitting
from programs.models import Program
from programs.services import program_update
from programs.templates_data import blank_spec
from rewards.models import Redemption, Reward
from rewards.tests import factories as rf
from rewards.tests.conftest import engine  # noqa: F401  (the fake reward engine fixture)
from tracking.models import Click, Enrollment, Participant, Referral

pytestmark = pytest.mark.django_db

PHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148"
T0 = datetime.fromisoformat("2026-05-04T02:00:00+00:00")


@pytest.fixture
def holdout(tenant):
    """A program holding out half its members, one held-out and one treated participant."""
    prog = rf.program(tenant, spec={**rf.SPEC, "holdout": {"percent": 50}})
    people = [rf.participant(tenant, f"p{i}") for i in range(12)]
    held = next(p for p in people if in_holdout(prog, p.pk))
    treated = next(p for p in people if not in_holdout(prog, p.pk))
    return prog, held, treated


def _enrol(api, prog, *people) -> None:
    for person in people:
        api.post(
            f"/api/v1/programs/{prog.slug}/enrollments",
            {"participant": person.external_id},
            format="json",
        )


def test_the_enrolment_api_gives_a_held_out_participant_no_link_and_says_why(api, holdout):
    prog, held, treated = holdout
    out = api.post(
        f"/api/v1/programs/{prog.slug}/enrollments",
        {"participant": held.external_id},
        format="json",
    )
    assert out.status_code == 201
    body = out.json()
    assert body["held_out"] is True
    assert [body[k] for k in ("code", "url", "qr_png_url", "poster_png_url")] == [None] * 4
    assert body["eligible"] is True

    res = api.post(
        f"/api/v1/programs/{prog.slug}/enrollments",
        {"participant": treated.external_id},
        format="json",
    )
    assert res.json()["held_out"] is False and res.json()["code"]
    assert res.json()["url"].endswith(res.json()["code"])


def test_the_portal_shows_a_held_out_participant_the_non_program_page(api, holdout):
    prog, held, treated = holdout
    _enrol(api, prog, held, treated)
    page = portal_client(api, held.external_id).get("/portal/").content.decode()
    assert "You are not taking part in a referral program yet." in page
    other = portal_client(api, treated.external_id).get("/portal/").content.decode()
    assert "You are not taking part in a referral program yet." not in other


def test_the_portal_session_says_who_gets_no_widget(api, tenant, holdout):
    prog, held, treated = holdout
    _enrol(api, prog, held, treated)
    answers = {
        p.external_id: api.post(
            "/api/v1/portal-sessions", {"participant": p.external_id}, format="json"
        ).json()["held_out"]
        for p in (held, treated)
    }
    assert answers == {held.external_id: True, treated.external_id: False}
    # Not enrolled yet: the tenant's live programs decide; a draft holds nobody out.
    prog.status = "active"
    prog.save(update_fields=["status"])
    newcomers = [rf.participant(tenant, f"n{i}") for i in range(12)]
    expected = {p.external_id: in_holdout(prog, p.pk) for p in newcomers}
    got = {
        p.external_id: api.post(
            "/api/v1/portal-sessions", {"participant": p.external_id}, format="json"
        ).json()["held_out"]
        for p in newcomers
    }
    assert got == expected and set(expected.values()) == {True, False}
    prog.status = "draft"
    prog.save(update_fields=["status"])
    assert not any(
        api.post("/api/v1/portal-sessions", {"participant": p.external_id}, format="json").json()[
            "held_out"
        ]
        for p in newcomers
    )


def test_the_portal_refuses_to_share_or_redeem_for_a_held_out_participant(api, tenant, holdout):
    prog, held, treated = holdout
    _enrol(api, prog, held, treated)
    enrolment = {
        p.pk: Enrollment.objects.for_tenant(tenant).get(program=prog, participant=p).pk
        for p in (held, treated)
    }
    portal = portal_client(api, held.external_id)
    shared = portal.post("/portal/share/", {"enrollment": enrolment[held.pk], "channel": "wechat"})
    assert shared.status_code == 403
    assert shared.json()["error"]["code"] == "held_out"
    redeemed = portal.post(
        "/portal/redeem/",
        {"enrollment": enrolment[held.pk], "item": "anything", "nonce": "n-1"},
        follow=True,
    )
    assert "You are not taking part in this program" in redeemed.content.decode()
    assert not Redemption.objects.for_tenant(tenant).exists()
    # The treated participant shares as before.
    other = portal_client(api, treated.external_id)
    ok = other.post("/portal/share/", {"enrollment": enrolment[treated.pk], "channel": "wechat"})
    assert ok.status_code == 204


def test_a_held_out_participant_gets_no_reward_while_the_other_side_does(
    tenant,
    holdout,
    engine,  # noqa: F811
):
    prog, held, treated = holdout
    ref = rf.referral(tenant, prog, referrer=held, referee=treated)
    scope = f"referral:{ref.pk}"
    engine.answer = lambda facts: [
        rf.decision(held, scope, "mql-cash", kind="cash", amount_minor=5000),
        rf.decision(treated, scope, "paid-coupon", kind="coupon", amount_minor=2500),
    ]
    created = referral_rewards_sync(referral=ref)
    assert [(r.participant_id, r.amount_minor) for r in created] == [(treated.pk, 2500)]
    assert not Reward.objects.for_tenant(tenant).filter(participant=held).exists()


def _spec():
    spec = blank_spec(slug="friends", name="Bring a friend")
    spec["status"] = "active"
    spec["landing_url"] = "https://shop.example.com/welcome"
    return spec


def test_a_held_out_referrers_existing_code_no_longer_attributes(
    api, client, tenant, owner, django_capture_on_commit_callbacks, monkeypatch
):
    with time_machine.travel(T0, tick=False):
        assert api.post("/api/v1/programs", _spec(), format="json").status_code == 201
        codes = {}
        for name in ("alice", "carol"):
            api.post(
                "/api/v1/participants", {"external_id": name, "name": name.title()}, format="json"
            )
            codes[name] = api.post(
                "/api/v1/programs/friends/enrollments", {"participant": name}, format="json"
            ).json()["code"]
        # Before the holdout, Alice's link attributes: a click id travels to the landing.
        before = client.get(f"/r/{codes['alice']}", HTTP_USER_AGENT=PHONE)
        old_click = parse_qs(urlsplit(before["Location"]).query)["click_id"][0]

    alice, carol = (
        Participant.objects.for_tenant(tenant).get(external_id=n) for n in ("alice", "carol")
    )
    seed = seed_splitting(5000, held=[alice.pk], treated=[carol.pk])
    program = Program.objects.for_tenant(tenant).get(slug="friends")
    with django_capture_on_commit_callbacks(execute=True):
        program_update(
            program=program,
            spec={**program.spec, "holdout": {"percent": 50, "seed": seed}},
            actor=owner,
        )

    def signup(who, at, referral):
        body = {
            "event_id": f"{who}-signup",
            "type": "signup",
            "occurred_at": at.isoformat(),
            "participant": {"external_id": who},
            "referral": referral,
        }
        with (
            time_machine.travel(at + timedelta(seconds=1), tick=False),
            django_capture_on_commit_callbacks(execute=True),
        ):
            assert api.post("/api/v1/events", body, format="json").status_code == 202

    # Attribution itself ignores the held-out referrer, even through a code cached before
    # the holdout began: neither the code typed at sign-up nor the earlier click refers Bob.
    signup("bob", T0 + timedelta(minutes=5), {"code": codes["alice"], "click_id": old_click})
    # Carol is treated: her code still refers Dan.
    signup("dan", T0 + timedelta(minutes=6), {"code": codes["carol"]})
    referrals = Referral.objects.for_tenant(tenant).values_list(
        "referrer__external_id", "referee__external_id"
    )
    assert list(referrals) == [("carol", "dan")]

    # The redirect, whose cached entry for the code the new version forgot, goes to the
    # landing like a rotated code: the standard offer, no `ref`, no click id, no cookie.
    with time_machine.travel(T0 + timedelta(minutes=10), tick=False):
        after = client.get(f"/r/{codes['alice']}", HTTP_USER_AGENT=PHONE)
        assert after.status_code == 302
        assert after["Location"] == "https://shop.example.com/welcome"
        assert "rp_click" not in after.cookies
        assert Click.objects.for_tenant(tenant).order_by("-created_at").first().leaked is True
        invite = client.get(f"/i/{codes['alice']}")
        assert invite.status_code == 200
        assert invite.context["code"] == "" and invite.context["referrer_name"] == ""
        treated = client.get(f"/r/{codes['carol']}", HTTP_USER_AGENT=PHONE)
        assert parse_qs(urlsplit(treated["Location"]).query)["ref"] == [codes["carol"]]

    # Her old poster names nobody either (as a rotated code's), Carol's still names her.
    drawn = []
    monkeypatch.setattr("tracking.qr.poster_png", lambda **kwargs: drawn.append(kwargs) or b"png")
    for name in ("alice", "carol"):
        assert client.get(f"/qr/{codes[name]}/poster.png").status_code == 200
    assert [(d["referrer_name"], d["invite_line"]) for d in drawn] == [
        ("", "You are invited"),
        ("Carol", "Carol invites you"),
    ]


def test_the_overview_says_when_the_holdout_is_too_small_to_tell(api, holdout, owner):
    prog, held, treated = holdout
    _enrol(api, prog, held, treated)
    client = Client()
    client.force_login(owner)
    res = client.get(f"/app/analytics/?program={prog.slug}")
    report = res.context["holdout"]
    assert (report["treated_members"], report["held_out_members"]) == (1, 1)
    assert report["too_small"] is True
    html = res.content.decode()
    assert "Too few members to tell yet: each group needs at least 30" in html
    assert html.count("sample too small to tell") == 2
