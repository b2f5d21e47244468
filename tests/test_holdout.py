"""A real holdout (SEMANTICS §10): a participant the program holds out gets no link, offer,
widget or reward; everyone else gets the program as before. The overview's incrementality
says when the groups are too small to tell."""

from __future__ import annotations

import pytest
from django.test import Client

from analytics import services as analytics_services
from analytics.experiments import in_holdout
from pipeline.flow import referral_rewards_sync
from portal.tests.conftest import portal_client
from rewards.models import Reward
from rewards.tests import factories as rf
from rewards.tests.conftest import engine  # noqa: F401  (the fake reward engine fixture)

pytestmark = pytest.mark.django_db


@pytest.fixture
def holdout(tenant, owner):
    """A program holding out half its members, one held-out and one treated participant."""
    prog = rf.program(tenant)
    analytics_services.targets_set(
        tenant=tenant, program=prog, actor=owner, holdout_basis_points=5000
    )
    seed = f"program:{prog.pk}"
    people = [rf.participant(tenant, f"p{i}") for i in range(12)]
    held = next(p for p in people if in_holdout(seed, p.pk, 5000))
    treated = next(p for p in people if not in_holdout(seed, p.pk, 5000))
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


def test_the_overview_says_when_the_holdout_is_too_small_to_tell(api, holdout, owner):
    prog, held, treated = holdout
    _enrol(api, prog, held, treated)
    client = Client()
    client.force_login(owner)
    res = client.get(f"/app/analytics/?program={prog.slug}")
    report = res.context["holdout"]
    assert (report["treated_members"], report["held_out_members"]) == (1, 1)
    assert report["too_small"] is True
    assert "Too few members to tell yet: each group needs at least 30" in res.content.decode()
