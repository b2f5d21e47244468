"""Tier progress, season rank and eligibility as the portal reads them from the rows."""

import re
from datetime import UTC, datetime, timedelta

import time_machine

from portal.selectors import portal_overview
from programs.services import program_create
from programs.templates_data.saas_b2b import saas_b2b_spec
from referral_platform.tenancy.scoping import tenant_context
from tracking import services as tracking
from tracking.models import Referral, ReferralStage

from .conftest import portal_client

NOW = datetime(2026, 5, 20, 4, 0, tzinfo=UTC)  # inside 2026-Q2, Shanghai time


def _referral(tenant, program, referrer, n, *, qualified=None, paid=None):
    referee, _ = tracking.participant_upsert(
        tenant=tenant, external_id=f"{referrer.external_id}-f{n}"
    )
    signed_up = (qualified or paid) - timedelta(days=1)
    referral = Referral.objects.for_tenant(tenant).create(
        tenant=tenant, program=program, program_version=program.current_version,
        referrer=referrer, referee=referee, source="link", created_at=signed_up,
        status_changed_at=signed_up, status="converted" if paid else "qualified",
    )  # fmt: skip
    if qualified:
        ReferralStage.objects.for_tenant(tenant).create(
            tenant=tenant, referral=referral, stage_key="qualified", status_set="qualified",
            occurred_at=qualified,
        )  # fmt: skip
    if paid:
        ReferralStage.objects.for_tenant(tenant).create(
            tenant=tenant, referral=referral, stage_key="paid", status_set="converted",
            occurred_at=paid, due_at=paid + timedelta(days=7),
        )  # fmt: skip
    return referral


def test_tier_progress_and_season_rank_count_this_season_only(tenant_ctx):
    tenant = tenant_ctx
    spec = saas_b2b_spec(2026)
    spec["status"] = "active"
    program = program_create(tenant=tenant, spec=spec, actor=None)
    people = {}
    for name in ("alice", "bob", "carol"):
        people[name], _ = tracking.participant_upsert(tenant=tenant, external_id=name, name=name)
        tracking.enrollment_create(tenant=tenant, program=program, participant=people[name])
    april = datetime(2026, 4, 10, 2, 0, tzinfo=UTC)
    for n in range(3):
        _referral(tenant, program, people["alice"], n, qualified=april + timedelta(days=n))
    for n in range(3, 5):
        _referral(tenant, program, people["alice"], n, paid=april + timedelta(days=n))
    for n in range(3):
        _referral(tenant, program, people["bob"], n, paid=april + timedelta(days=n))
    # A success whose hold ended in March belongs to the last season.
    _referral(tenant, program, people["carol"], 0, paid=datetime(2026, 3, 1, 2, 0, tzinfo=UTC))
    # A qualified lead from the last season does not count towards this season's tiers.
    _referral(
        tenant, program, people["alice"], 9, qualified=datetime(2026, 3, 30, 2, 0, tzinfo=UTC)
    )

    with time_machine.travel(NOW, tick=False):
        views = {name: portal_overview(p).enrollments[0] for name, p in people.items()}
    alice = views["alice"]
    assert (alice.tier.count, alice.tier.next_threshold, alice.tier.remaining) == (3, 5, 2)
    assert alice.tier.reached_labels == ("Avatar frame + e-certificate",)
    assert (views["bob"].rank, alice.rank, views["carol"].rank) == (1, 2, None)
    assert alice.rank_needed == 2


def test_the_season_rank_and_progress_appear_on_the_page(api, tenant):
    spec = saas_b2b_spec(2026)
    spec["status"] = "active"
    program = program_create(tenant=tenant, spec=spec, actor=None)
    with tenant_context(tenant):
        alice, _ = tracking.participant_upsert(tenant=tenant, external_id="alice", name="Alice")
        tracking.enrollment_create(tenant=tenant, program=program, participant=alice)
        bob, _ = tracking.participant_upsert(tenant=tenant, external_id="bob", name="Bob")
        tracking.enrollment_create(tenant=tenant, program=program, participant=bob)
        april = datetime(2026, 4, 10, 2, 0, tzinfo=UTC)
        _referral(tenant, program, alice, 0, paid=april)
        for n in range(3):
            _referral(tenant, program, bob, n, paid=april + timedelta(days=n))
    with time_machine.travel(NOW, tick=False):
        html = portal_client(api, "alice").get("/portal/").content.decode()
    # One success: on no prize board yet (the season needs two), said plainly.
    assert "Not ranked yet this season." in html
    assert "Prizes need at least 2 successful referrals this season." in html
    assert "0 so far: 3 more successful referrals to reach" in html
    rows = re.findall(r'<tr[^>]*data-testid="board-row"><td>(#\d+)</td><td>([^<]+)</td>', html)
    assert rows == [("#1", "B***")]
    with tenant_context(tenant):
        _referral(tenant, program, alice, 1, paid=april + timedelta(days=5))
    with time_machine.travel(NOW, tick=False):
        html = portal_client(api, "alice").get("/portal/").content.decode()
    assert "Season rank: #2" in html
    rows = re.findall(r'<tr[^>]*data-testid="board-row"><td>(#\d+)</td><td>([^<]+)</td>', html)
    assert rows == [("#1", "B***"), ("#2", "You")]


def test_an_ineligible_referrer_sees_why_their_rewards_are_on_hold(api, shop):
    api.post("/api/v1/participants", {"external_id": "newbie", "name": "New"}, format="json")
    api.post("/api/v1/programs/green-home/enrollments", {"participant": "newbie"}, format="json")
    html = portal_client(api, "newbie").get("/portal/").content.decode()
    assert "your own rewards are on hold until you meet these conditions" in html
    assert "<li>At least one valid order</li>" in html
    assert "<li>A verified phone</li>" in html
    assert (
        "At least one valid order"
        not in portal_client(api, "alice").get("/portal/").content.decode()
    )
