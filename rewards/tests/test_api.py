from datetime import datetime, timedelta

import pytest
import time_machine

from pipeline.flow import referral_rewards_sync
from referral_platform.core.periodic import run_all
from rewards.models import Payout
from rewards.tests import factories as f

T0 = datetime.fromisoformat("2026-03-02T10:00:00+00:00")


@pytest.fixture
def rewards_setup(tenant, engine):
    prog = f.program(tenant)
    ref = f.referral(tenant, prog, referrer=f.participant(tenant, "alice"))
    scope = f"referral:{ref.pk}"
    engine.answer = lambda facts: [
        f.decision(
            ref.referrer,
            scope,
            "paid-coupon",
            kind="coupon",
            amount_minor=2500,
            due_at=T0,
            details={"min_spend": 12900, "valid_days": 14},
        ),
        f.decision(
            ref.referrer,
            scope,
            "mql-cash",
            kind="cash",
            amount_minor=5000,
            due_at=T0 + timedelta(days=30),
        ),
    ]
    referral_rewards_sync(referral=ref)
    return prog, ref


def test_the_rewards_list_shows_every_api_field_and_coupon_terms(api, tenant, rewards_setup):
    prog, ref = rewards_setup
    with time_machine.travel(T0 + timedelta(hours=1), tick=False):
        run_all()
    response = api.get("/api/v1/rewards", {"participant": "alice", "status": "fulfilled"})
    assert response.status_code == 200
    body = response.json()
    assert body["next"] is None and len(body["results"]) == 1
    coupon = body["results"][0]
    code = coupon.pop("code")
    created_at, expires_at = coupon.pop("created_at"), coupon.pop("expires_at")
    assert code.startswith("RF-") and created_at and expires_at.startswith("2026-03-16")
    assert coupon == {
        "id": coupon["id"],
        "participant": "alice",
        "referral": ref.pk,
        "program": "prog",
        "side": "referrer",
        "scope": f"referral:{ref.pk}",
        "reason": "stage:paid-coupon",
        "kind": "coupon",
        "amount": {"amount_minor": 2500, "currency": "CNY"},
        "points": None,
        "description": "paid-coupon",
        "options": [],
        "status": "fulfilled",
        "hold_reason": None,
        "blocked_reason": None,
        "boost": None,
        "due_at": "2026-03-02T10:00:00+00:00",
        "choice_deadline": None,
        "reversed_amount": None,
        "percent_off": None,
        "max_amount": None,
        "min_spend": {"amount_minor": 12900, "currency": "CNY"},
        "valid_days": 14,
    }


def test_the_rewards_list_filters_by_status_and_program_and_paginates(api, rewards_setup):
    assert len(api.get("/api/v1/rewards", {"status": "pending"}).json()["results"]) == 2
    assert api.get("/api/v1/rewards", {"program": "other"}).json()["results"] == []
    page = api.get("/api/v1/rewards", {"limit": 1}).json()
    assert len(page["results"]) == 1 and page["next"]
    rest = api.get(page["next"]).json()
    assert len(rest["results"]) == 1 and rest["results"][0]["id"] != page["results"][0]["id"]


def test_an_unknown_status_filter_is_a_field_error(api, rewards_setup):
    response = api.get("/api/v1/rewards", {"status": "paid"})
    assert response.status_code == 422 and "status" in response.json()["error"]["fields"]


def test_another_tenant_sees_none_of_these_rewards(other_api, rewards_setup):
    assert other_api.get("/api/v1/rewards").json()["results"] == []
    from rewards.models import Reward

    reward_id = Reward.unscoped.first().pk
    assert other_api.get(f"/api/v1/rewards/{reward_id}").status_code == 404


def test_a_payout_is_marked_paid_through_the_api_and_a_foreign_payout_is_404(
    api, other_api, tenant, rewards_setup
):
    with time_machine.travel(T0 + timedelta(days=31), tick=False):
        run_all()
    payout = Payout.objects.for_tenant(tenant).get()
    assert other_api.post(f"/api/v1/payouts/{payout.pk}/paid", {}, format="json").status_code == 404
    response = api.post(
        f"/api/v1/payouts/{payout.pk}/paid", {"external_ref": "bank-1"}, format="json"
    )
    assert response.status_code == 200 and response.json()["status"] == "paid"
    assert (
        api.post(f"/api/v1/payouts/{payout.pk}/failed", {"reason": "x"}, format="json").status_code
        == 409
    )
    status = api.get("/api/v1/rewards", {"status": "fulfilled"}).json()["results"]
    assert {r["kind"] for r in status} == {"coupon", "cash"}
