"""Review decisions and customer disputes through the services."""

from __future__ import annotations

import functools
from datetime import datetime, timezone

import pytest
import time_machine

from fraud import services
from fraud.models import CaseStatus, DisputeStatus, ReviewCase
from fraud.selectors import dispute_list_for_participant
from pipeline import flow
from referral_platform.core.errors import Conflict, PermissionDenied, ValidationFailed
from referral_platform.core.models import AuditEntry
from rewards import services as rewards_services


@pytest.fixture
def rewards_calls(monkeypatch):
    calls = []

    def fake(name, **kwargs):
        calls.append((name, kwargs["referral"].pk, kwargs.get("actor")))
        return True

    for name in ("rewards_hold_for_review", "rewards_release_after_review", "rewards_reject"):
        monkeypatch.setattr(rewards_services, name, functools.partial(fake, name))
    return calls


@pytest.fixture
def flagged(tenant, program, make, rewards_calls):
    ann = make.participant(tenant, email="ann@acme-widgets.com", external_id="ann")
    bob = make.participant(tenant, email="bob@acme-widgets.com", external_id="bob")
    referral = make.referral(program, ann, bob, status="converted")
    flow.assessment_run(referral=referral, stage_key="purchase")
    referral.refresh_from_db()
    assert referral.status == "review"
    rewards_calls.clear()
    return referral


def test_approving_returns_the_referral_to_its_status_and_releases_rewards(
    flagged, ops, rewards_calls, tenant
):
    case = flow.review_decide(
        referral=flagged, decision="approve", actor=ops, note="Different teams, checked."
    )
    flagged.refresh_from_db()
    assert (flagged.status, case.status, case.decided_by) == ("converted", CaseStatus.APPROVED, ops)
    assert rewards_calls == [("rewards_release_after_review", flagged.pk, ops)]
    entry = AuditEntry.objects.for_tenant(tenant).get(action="review.approved")
    assert (entry.actor, entry.note, entry.target_id) == (
        ops,
        "Different teams, checked.",
        str(flagged.pk),
    )


def test_rejecting_needs_a_note_and_rejects_the_rewards(flagged, owner, rewards_calls, tenant):
    with pytest.raises(ValidationFailed):
        flow.review_decide(referral=flagged, decision="reject", actor=owner, note=" ")
    flow.review_decide(
        referral=flagged, decision="reject", actor=owner, note="Same office, same card."
    )
    flagged.refresh_from_db()
    assert flagged.status == "rejected"
    assert rewards_calls == [("rewards_reject", flagged.pk, owner)]
    assert (
        AuditEntry.objects.for_tenant(tenant)
        .filter(action="review.rejected", note="Same office, same card.")
        .count()
        == 1
    )


def test_a_case_cannot_be_decided_twice(flagged, ops):
    flow.review_decide(referral=flagged, decision="approve", actor=ops)
    with pytest.raises(Conflict):
        flow.review_decide(referral=flagged, decision="reject", actor=ops, note="late")


def test_marketers_and_analysts_cannot_decide(flagged, marketer, analyst):
    for user in (marketer, analyst):
        with pytest.raises(PermissionDenied):
            flow.review_decide(referral=flagged, decision="approve", actor=user)
    assert (
        ReviewCase.objects.for_tenant(flagged.tenant).get(referral=flagged).status
        == CaseStatus.OPEN
    )


def test_an_approved_referral_is_not_flagged_again_for_the_same_signals(
    flagged, ops, rewards_calls
):
    flow.review_decide(referral=flagged, decision="approve", actor=ops)
    again = flow.assessment_run(referral=flagged, stage_key="retained")
    flagged.refresh_from_db()
    assert (again.decision, again.note, flagged.status) == (
        "approve",
        "cleared_by_reviewer",
        "converted",
    )


def test_bulk_decisions_skip_cases_decided_meanwhile(flagged, tenant, program, make, ops):
    other = make.referral(
        program,
        make.participant(tenant, email="c@acme-widgets.com"),
        make.participant(tenant, email="d@acme-widgets.com"),
    )
    flow.assessment_run(referral=other, stage_key="signup")
    flow.review_decide(referral=other, decision="approve", actor=ops)
    result = flow.review_decide_bulk(
        tenant=tenant,
        referral_ids=[flagged.pk, other.pk],
        decision="reject",
        actor=ops,
        note="ring",
    )
    assert result == {"decided": [flagged.pk], "skipped": [other.pk]}


def test_assigning_a_case_to_a_reviewer(flagged, tenant, ops, owner, marketer):
    assert (
        services.review_assign(tenant=tenant, referral_ids=[flagged.pk], assignee=ops, actor=owner)
        == 1
    )
    assert ReviewCase.objects.for_tenant(tenant).get(referral=flagged).assignee == ops
    with pytest.raises(PermissionDenied):
        services.review_assign(
            tenant=tenant, referral_ids=[flagged.pk], assignee=marketer, actor=owner
        )


@time_machine.travel(datetime(2026, 9, 30, 2, 0, tzinfo=timezone.utc), tick=False)
def test_a_dispute_is_due_in_five_business_days_skipping_the_tenants_holidays(flagged, tenant):
    # Shanghai, Wednesday 30 Sept 10:00; 1–7 Oct are holidays, 10 Oct a make-up workday.
    tenant.holidays = [f"2026-10-0{d}" for d in range(1, 8)]
    tenant.workdays = ["2026-10-10"]
    tenant.save()
    dispute = services.dispute_create(
        participant=flagged.referrer, message="My colleague is a real customer.", referral=flagged
    )
    # Business days: 8 Oct (Thu), 9 (Fri), 10 (Sat, make-up), 12 (Mon), 13 (Tue).
    assert dispute.due_at == datetime(2026, 10, 13, 2, 0, tzinfo=timezone.utc)
    assert list(dispute_list_for_participant(flagged.referrer)) == [dispute]
    assert list(dispute_list_for_participant(flagged.referee)) == []


def test_a_dispute_must_name_one_of_the_participants_own_referrals(flagged, tenant, make):
    stranger = make.participant(tenant, email="zed@qq.com")
    with pytest.raises(ValidationFailed):
        services.dispute_create(participant=stranger, message="hi", referral=flagged)
    with pytest.raises(ValidationFailed):
        services.dispute_create(participant=flagged.referrer, message="   ")


def test_answering_a_dispute_records_the_answer_for_the_customer(flagged, ops, tenant):
    dispute = services.dispute_create(
        participant=flagged.referrer, message="Please check again.", referral=flagged
    )
    services.dispute_answer(
        dispute=dispute, answer="We checked and approved it.", outcome="upheld", actor=ops
    )
    dispute.refresh_from_db()
    assert (dispute.status, dispute.answer, dispute.outcome, dispute.answered_by) == (
        DisputeStatus.ANSWERED,
        "We checked and approved it.",
        "upheld",
        ops,
    )
    with pytest.raises(Conflict):
        services.dispute_answer(dispute=dispute, answer="again", outcome="denied", actor=ops)
    assert AuditEntry.objects.for_tenant(tenant).filter(action__startswith="dispute.").count() == 2
