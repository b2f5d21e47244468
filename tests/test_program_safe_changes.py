"""Activate, pause, end and live edits say what they do and wait for a confirmation."""

from datetime import datetime, timedelta

import pytest
import time_machine

from programs import services
from programs.checklist import change_impact, launch_checklist
from programs.models import Program
from programs.templates_data import ARCHETYPES
from programs.tests.conftest import section_data, signed_in
from tests.scenario import event, tick

pytestmark = pytest.mark.django_db
T0 = datetime.fromisoformat("2026-04-06T02:00:00+00:00")


def test_activate_shows_the_launch_checklist_and_waits_for_the_confirmation(marketer, tenant):
    spec = ARCHETYPES["green-home"](year=2026)
    spec["status"] = "draft"
    green = services.program_create(tenant=tenant, spec=spec, actor=None)
    client = signed_in(marketer)
    text = client.get("/app/programs/green-home/status/?to=active").content.decode()
    assert 'data-testid="launch-checklist"' in text
    assert "No budget: rewards are never stopped by cost." in text
    # 100 sign-ups × 60 % × ¥20 coupon + 30 successes × 300 points × ¥0.05.
    assert "About ¥1,650.00 a month for 100 referred sign-ups a month" in text
    response = client.post("/app/programs/green-home/status/", {"status": "active"})
    assert (
        response.status_code == 200 and 'data-testid="confirm-status"' in response.content.decode()
    )
    green.refresh_from_db()
    assert green.status == "draft"
    response = client.post("/app/programs/green-home/status/", {"status": "active", "confirm": "1"})
    assert response.status_code == 302
    green.refresh_from_db()
    assert green.status == "active"


def test_the_checklist_names_conflicts_and_a_budget_below_a_month_of_cost():
    spec = ARCHETYPES["green-home"](year=2026)
    spec["budget"] = 100000  # ¥1,000 against about ¥1,650 a month
    spec["ends_at"] = "2026-01-01T00:00:00+08:00"
    checklist = launch_checklist(spec, now=datetime.fromisoformat("2026-02-01T00:00:00+08:00"))
    assert checklist["budget"] == "¥1,000.00" and checklist["budget_months"] == 0
    assert (
        "The estimated monthly cost ¥1,650.00 is more than the whole budget ¥1,000.00."
        in checklist["conflicts"]
    )
    assert (
        "The program ends before it would start: its end is in the past." in checklist["conflicts"]
    )
    assert "No budget: rewards are never stopped by cost." not in checklist["missing"]


@pytest.fixture
def live_shop(tenant, api):
    spec = ARCHETYPES["green-home"](year=2026)
    program = services.program_create(tenant=tenant, spec=spec, actor=None)
    api.post(
        "/api/v1/participants",
        {"external_id": "alice", "attributes": {"orders_count": 3, "phone_verified": True}},
        format="json",
    )
    code = api.post(
        "/api/v1/programs/green-home/enrollments", {"participant": "alice"}, format="json"
    ).json()["code"]
    with time_machine.travel(T0, tick=False):
        event(api, "f1-signup", "signup", "f1", T0 - timedelta(hours=1), referral={"code": code})
        event(
            api, "f1-buy", "purchase", "f1", T0, order_id="o-f1",
            amount={"amount_minor": 12000, "currency": "CNY"},
        )  # fmt: skip
        tick()
    return program


def test_pause_and_end_say_what_happens_to_referrals_in_hold_and_pending_rewards(
    marketer, live_shop
):
    client = signed_in(marketer)
    with time_machine.travel(T0 + timedelta(days=1), tick=False):
        text = client.get("/app/programs/green-home/status/?to=paused").content.decode()
    assert "1 referral is in its hold window" in text
    # The ¥25 coupon, the ticket and 300 points held for 7 days (the ¥20 sign-up coupon is out).
    assert (
        "3 rewards not yet handed over (¥25.00 in money) stay and are handed over when due" in text
    )
    assert 'data-testid="confirm-checkbox"' in text
    text = client.get("/app/programs/green-home/status/?to=ended").content.decode()
    assert "Ending cannot be undone." in text
    live_shop.refresh_from_db()
    assert live_shop.status == "active"
    client.post("/app/programs/green-home/status/", {"status": "paused", "confirm": "1"})
    live_shop.refresh_from_db()
    assert live_shop.status == "paused"


def test_editing_a_live_program_shows_who_the_change_reaches_before_saving(marketer, live_shop):
    client = signed_in(marketer)
    data = section_data(client, "green-home", "stages", {"stages[0].rewards[0].amount": "30"})
    response = client.post("/app/programs/green-home/edit/stages/", data)
    text = response.content.decode()
    assert response.status_code == 200 and 'data-testid="live-diff"' in text
    row = text.split('data-testid="live-diff"')[1].split("</tr>")[1]
    assert '<span data-testid="field-label">Stages 1 › Rewards 1 › Amount</span>' in row
    assert ">¥20.00<" in row and ">¥30.00<" in row and "New referrals only" in row
    assert "The 1 referrals in flight keep following the version they were created under" in text
    assert Program.unscoped.get(pk=live_shop.pk).current_version.number == 1
    # "Back to editing" returns to the form as it was typed, nothing saved.
    assert 'name="_action" value="refresh" data-testid="back-to-editing"' in text
    back = client.post(
        "/app/programs/green-home/edit/stages/", {**data, "confirm_live": "1", "_action": "refresh"}
    )
    assert back.status_code == 200
    assert 'name="stages[0].rewards[0].amount" aria-describedby' in back.content.decode()
    assert section_data(client, "green-home", "stages")["stages[0].rewards[0].amount"] == "20.00"
    assert (
        'value="30.00"'
        in back.content.decode().split('name="stages[0].rewards[0].amount"')[1][:120]
    )
    assert Program.unscoped.get(pk=live_shop.pk).current_version.number == 1
    response = client.post("/app/programs/green-home/edit/stages/", {**data, "confirm_live": "1"})
    assert response.status_code == 302
    live_shop.refresh_from_db()
    assert live_shop.current_version.number == 2
    assert live_shop.spec["stages"][0]["rewards"][0]["amount"] == 3000


def test_back_to_editing_the_json_keeps_what_was_typed(marketer, live_shop):
    import json

    client = signed_in(marketer)
    spec = {**live_shop.spec, "name": "Green home, renamed"}
    body = json.dumps(spec, indent=2, ensure_ascii=False)
    preview = client.post("/app/programs/green-home/edit/advanced/", {"body": body})
    assert 'data-testid="live-diff"' in preview.content.decode()
    back = client.post(
        "/app/programs/green-home/edit/advanced/",
        {"body": body, "confirm_live": "1", "_action": "refresh"},
    )
    assert back.status_code == 200
    assert "Green home, renamed" in back.content.decode()
    assert Program.unscoped.get(pk=live_shop.pk).current_version.number == 1


def test_a_tier_change_reaches_referrals_in_flight_and_a_stage_change_does_not():
    old = ARCHETYPES["green-home"](year=2026)
    new = ARCHETYPES["green-home"](year=2026)
    new["tiers"][0]["threshold"] = 4
    new["stages"][1]["hold"]["days"] = 14
    reaches = {c["path"]: c["reaches"] for c in change_impact(old, new)}
    assert reaches == {"stages[1].hold.days": "new_referrals", "tiers[0].threshold": "everyone"}
