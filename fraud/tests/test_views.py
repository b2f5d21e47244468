"""The staff pages under /app/review/: roles, tenancy, decisions, exports, backtesting."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client

from fraud import services
from fraud.models import CaseStatus, CodeFlag, ReviewCase
from pipeline import flow
from referral_platform.core import clock
from rewards import services as rewards_services


@pytest.fixture(autouse=True)
def rewards_calls(monkeypatch):
    calls = []
    for name in ("rewards_hold_for_review", "rewards_release_after_review", "rewards_reject"):
        monkeypatch.setattr(
            rewards_services,
            name,
            lambda name=name, **kw: calls.append((name, kw["referral"].pk)) or True,
        )
    return calls


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def flagged(tenant, program, make):
    ann = make.participant(tenant, email="ann@acme-widgets.com", external_id="ann")
    bob = make.participant(tenant, email="bob@acme-widgets.com", external_id="bob")
    referral = make.referral(program, ann, bob, status="converted")
    flow.assessment_run(referral=referral, stage_key="purchase")
    return referral


def test_ops_sees_the_queue_oldest_first_with_signals(ops, flagged, tenant, program, make):
    newer = make.referral(
        program,
        make.participant(tenant, email="c@x-corp.com", external_id="carl"),
        make.participant(tenant, email="d@x-corp.com", external_id="dora"),
    )
    flow.assessment_run(referral=newer, stage_key="signup")
    ReviewCase.objects.for_tenant(tenant).filter(referral=flagged).update(
        opened_at=clock.now() - timedelta(hours=50), due_at=clock.now() - timedelta(hours=2)
    )
    response = login(ops).get("/app/review/")
    assert response.status_code == 200
    body = response.content.decode()
    assert body.index(f"#{flagged.pk}<") < body.index(f"#{newer.pk}<")
    assert "same_domain" in body and "ann → bob" in body
    assert "past SLA" in body
    assert 'id="bulk-form"' in body


def test_the_queue_names_signals_by_their_label_and_keeps_the_code_as_a_title(ops, flagged):
    body = login(ops).get("/app/review/").content.decode()
    assert '<option value="same_domain">Same email domain</option>' in body
    assert '<span title="same_domain">Same email domain</span>' in body
    assert ">same_domain<" not in body


def test_the_queue_filters_by_signal(ops, flagged):
    client = login(ops)
    response = client.get("/app/review/", {"signal": "same_domain"})
    assert response.status_code == 200
    assert f'data-referral="{flagged.pk}"' in response.content.decode()
    response = client.get("/app/review/", {"signal": "disposable_email"})
    assert response.status_code == 200
    assert f'data-referral="{flagged.pk}"' not in response.content.decode()


def test_a_refused_policy_names_the_fields_by_their_labels(ops):
    response = login(ops).post(
        "/app/review/policy/", {"review_threshold": "120", "w_same_ip": "400"}, follow=True
    )
    body = response.content.decode()
    assert "Review from score: Between 0 and 100." in body
    assert "Same IP address: Between 0 and 100." in body
    assert "weights.same_ip" not in body


def test_analysts_read_the_queue_but_cannot_decide_and_marketers_cannot_see_it(
    analyst, marketer, flagged
):
    reader = login(analyst)
    assert reader.get("/app/review/").status_code == 200
    page = reader.get(f"/app/review/{flagged.pk}/")
    assert page.status_code == 200 and 'data-testid="decide-form"' not in page.content.decode()
    assert (
        reader.post(f"/app/review/{flagged.pk}/decide/", {"decision": "approve"}).status_code == 403
    )
    assert login(marketer).get("/app/review/").status_code == 403
    assert login(marketer).get(f"/app/review/{flagged.pk}/").status_code == 403
    assert (
        ReviewCase.objects.for_tenant(flagged.tenant).get(referral=flagged).status
        == CaseStatus.OPEN
    )


def test_another_tenants_referral_is_not_found(outsider, flagged):
    client = login(outsider)
    assert client.get(f"/app/review/{flagged.pk}/").status_code == 404
    assert (
        client.post(f"/app/review/{flagged.pk}/decide/", {"decision": "approve"}).status_code == 404
    )
    assert f"#{flagged.pk}<" not in client.get("/app/review/").content.decode()


def test_the_detail_page_shows_signals_shared_identifiers_and_other_referrals(
    ops, flagged, tenant, program, make
):
    make.referral(
        program, flagged.referrer, make.participant(tenant, external_id="eve"), code="CODE1"
    )
    body = login(ops).get(f"/app/review/{flagged.pk}/").content.decode()
    assert "Possibly the same company: both use the email domain acme-widgets.com." in body
    assert "ann → eve" in body  # the referrer's other referral
    assert 'data-testid="shared-identifiers"' in body


def test_rejecting_from_the_detail_page_with_a_note(ops, flagged, rewards_calls, tenant):
    response = login(ops).post(
        f"/app/review/{flagged.pk}/decide/", {"decision": "reject", "note": "Same office."}
    )
    assert response.status_code == 302
    flagged.refresh_from_db()
    assert flagged.status == "rejected"
    assert ("rewards_reject", flagged.pk) in rewards_calls
    log = login(ops).get("/app/review/decisions/").content.decode()
    assert "review.rejected" in log and "Same office." in log


def test_approving_from_the_page_releases_and_restores_the_status(owner, flagged, rewards_calls):
    login(owner).post(f"/app/review/{flagged.pk}/decide/", {"decision": "approve", "note": ""})
    flagged.refresh_from_db()
    assert flagged.status == "converted"
    assert ("rewards_release_after_review", flagged.pk) in rewards_calls


def test_bulk_reject_and_assign(ops, flagged, tenant, program, make):
    other = make.referral(
        program,
        make.participant(tenant, email="c@x-corp.com"),
        make.participant(tenant, email="d@x-corp.com"),
    )
    flow.assessment_run(referral=other, stage_key="signup")
    client = login(ops)
    client.post(
        "/app/review/bulk/",
        {"action": "assign", "referrals": [flagged.pk, other.pk], "assignee": ops.pk},
    )
    assert set(ReviewCase.objects.for_tenant(tenant).values_list("assignee", flat=True)) == {ops.pk}
    client.post(
        "/app/review/bulk/",
        {"action": "reject", "referrals": [flagged.pk, other.pk], "note": "ring"},
    )
    assert set(ReviewCase.objects.for_tenant(tenant).values_list("status", flat=True)) == {
        CaseStatus.REJECTED
    }


def test_the_decision_log_exports_as_csv(ops, flagged, analyst):
    login(ops).post(
        f"/app/review/{flagged.pk}/decide/", {"decision": "reject", "note": "Same office."}
    )
    response = login(analyst).get("/app/review/decisions.csv")
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode()
    lines = text.strip().splitlines()
    assert lines[0] == "created_at,actor,action,target_type,target_id,data,note"
    assert any(
        "user:ops@acme.test,review.rejected,tracking.referral" in line and "Same office." in line
        for line in lines
    )
    assert any("system,fraud.review" in line for line in lines)


def test_dispute_queue_and_answer(ops, flagged, analyst):
    dispute = services.dispute_create(
        participant=flagged.referrer, message="Bob is a new client.", referral=flagged
    )
    assert "Bob is a new client." in login(analyst).get("/app/review/disputes/").content.decode()
    assert (
        login(analyst)
        .post(f"/app/review/disputes/{dispute.pk}/", {"answer": "x", "outcome": "denied"})
        .status_code
        == 403
    )
    login(ops).post(
        f"/app/review/disputes/{dispute.pk}/", {"answer": "We approved it.", "outcome": "upheld"}
    )
    dispute.refresh_from_db()
    assert (dispute.status, dispute.answer) == ("answered", "We approved it.")


def test_backtest_replays_a_stricter_policy_over_stored_signals(ops, tenant, program, make):
    # Two referrals with a weak same-IP signal (25): approved now, held under a threshold of 20.
    for n in range(2):
        ann = make.participant(tenant, email=f"ann{n}@gmail.com")
        bob = make.participant(tenant, email=f"bob{n}@gmail.com")
        make.event(ann, context={"ip": f"203.0.113.{n}"})
        make.event(bob, context={"ip": f"203.0.113.{n}"})
        referral = make.referral(program, ann, bob)
        flow.assessment_run(referral=referral, stage_key="signup")
    from rewards.models import Reward

    Reward.unscoped.create(
        tenant=tenant,
        program=program,
        participant=referral.referrer,
        referral=referral,
        side="referrer",
        scope=f"referral:{referral.pk}",
        reason="stage:paid",
        kind="cash",
        amount_minor=15000,
        currency="CNY",
    )
    response = login(ops).get(
        "/app/review/policy/", {"backtest": "1", "review_threshold": "20", "reject_threshold": "70"}
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="bt-approve">0<' in body
    assert 'data-testid="bt-review">2<' in body
    assert 'data-testid="bt-money-held">¥150 <' in body


def test_saving_a_policy_is_for_ops_and_owners(ops, analyst, tenant):
    assert (
        login(analyst)
        .post("/app/review/policy/", {"review_threshold": "10", "reject_threshold": "50"})
        .status_code
        == 403
    )
    login(ops).post(
        "/app/review/policy/",
        {"review_threshold": "10", "reject_threshold": "50", "w_same_ip": "40"},
    )
    from fraud.selectors import policy_for

    policy = policy_for(tenant, None)
    assert (policy.review_threshold, policy.reject_threshold, policy.weights["same_ip"]) == (
        10,
        50,
        40,
    )


def test_a_code_used_far_beyond_its_reach_is_flagged_and_can_be_dismissed(
    ops, tenant, program, make
):
    ann = make.participant(tenant, external_id="ann")
    for _n in range(16):
        make.referral(program, ann, make.participant(tenant), code="LEAKY1")
    assert services.codes_detect_leaks(tenant=tenant) == ["LEAKY1"]
    flag = CodeFlag.objects.for_tenant(tenant).get(code="LEAKY1")
    assert flag.reasons == ["16 referrals this week (usually 0.0)"]
    assert "LEAKY1" in login(ops).get("/app/review/codes/").content.decode()
    login(ops).post(f"/app/review/codes/{flag.pk}/", {"action": "dismiss"})
    flag.refresh_from_db()
    assert flag.status == "dismissed"


def test_the_decision_log_export_neutralises_cells_and_reads_money_in_major_units(
    tenant, flagged, analyst
):
    import csv
    import io

    from referral_platform.core.audit import audit_log

    audit_log(
        tenant=tenant,
        actor=None,
        action="review.rejected",
        target=flagged,
        data={"refund": {"amount_minor": 3500, "currency": "CNY"}},
        note="+cmd|' /C calc'!A0",
        actor_label="system",
    )
    response = login(analyst).get("/app/review/decisions.csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    row = next(r for r in rows if r[6].endswith("calc'!A0"))
    assert row[5] == '{"refund": {"amount": "35.00", "currency": "CNY"}}'
    assert row[6] == "'+cmd|' /C calc'!A0"
