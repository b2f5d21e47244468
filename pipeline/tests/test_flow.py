"""The flow across the apps: its order, facts and stages computed once, and failing closed."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine

from fraud import services as fraud_services
from fraud.models import Assessment
from pipeline import flow
from programs import engine
from programs.engine.types import ParticipantFact, ReferralFacts
from programs.services import program_create
from referral_platform.core import clock
from referral_platform.core.periodic import run_all
from rewards import services as rewards_services
from rewards.models import Reward
from tracking import services as tracking
from tracking.models import Referral
from tracking.tests.conftest import make_spec

T0 = clock.now().replace(microsecond=0) - timedelta(hours=1)


@pytest.fixture
def cash_program(tenant):
    spec = make_spec(slug="cash")
    spec["stages"][0]["hold"] = {"days": 7}
    spec["stages"][0]["rewards"] = [
        {"key": "paid_cash", "side": "referrer", "kind": "cash", "amount": 5000,
         "description": "¥50"},
    ]  # fmt: skip
    return program_create(tenant=tenant, spec=spec, actor=None)


@pytest.fixture
def referrer_code(tenant, cash_program):
    ann, _ = tracking.participant_upsert(
        tenant=tenant, external_id="ann", email="ann@shop.test", phone="+8613800138000"
    )
    return tracking.enrollment_create(tenant=tenant, program=cash_program, participant=ann)[1]


def send(tenant, event_id, type_, who, at=T0, **extra) -> str:
    payload = {
        "event_id": event_id,
        "type": type_,
        "occurred_at": at.isoformat(),
        "participant": {"external_id": who, "email": f"{who}@mail.test"},
        **extra,
    }
    event, _ = tracking.event_ingest(
        tenant=tenant, data={**payload, "occurred_at": at}, payload=payload
    )
    return flow.event_process_by_id(event.pk)


def record(monkeypatch, calls: list, module, name: str, label=None):
    """Wrap `module.name` so each call is appended to `calls`, then runs as before."""
    original = getattr(module, name)

    def wrapper(*args, **kwargs):
        calls.append((label or name, kwargs))
        return original(*args, **kwargs)

    monkeypatch.setattr(module, name, wrapper)


def test_a_purchase_crosses_the_apps_in_order_with_stages_evaluated_once(
    tenant, referrer_code, monkeypatch
):
    assert send(tenant, "s1", "signup", "bo", referral={"code": referrer_code.code}) == (
        "processed"
    )
    calls: list = []
    record(monkeypatch, calls, engine, "evaluate_stages")
    record(monkeypatch, calls, tracking, "referral_stages_apply")
    record(monkeypatch, calls, fraud_services, "assessment_score")
    record(monkeypatch, calls, tracking, "referral_status_set")
    record(monkeypatch, calls, rewards_services, "referral_rewards_sync")

    assert send(tenant, "p1", "purchase", "bo", amount={"amount_minor": 9900, "currency": "CNY"})
    assert [name for name, _ in calls] == [
        "evaluate_stages",
        "referral_stages_apply",
        "assessment_score",
        "referral_rewards_sync",
    ]
    stages_kwargs, score_kwargs, sync_kwargs = calls[1][1], calls[2][1], calls[3][1]
    assert score_kwargs["stage_key"] == "paid"
    # Rewards gets the stage decisions tracking applied, not a second evaluation of its own,
    # and the facts with fraud's decision after the paying stage was scored.
    assert sync_kwargs["stages"] is stages_kwargs["decisions"]
    assert (sync_kwargs["facts"].status, sync_kwargs["facts"].fraud_decision) == (
        "converted",
        "approve",
    )
    reward = Reward.objects.for_tenant(tenant).get()
    assert (reward.status, reward.hold_reason, reward.amount_minor) == ("pending", "hold", 5000)


def test_a_new_referral_is_scored_before_it_is_announced_and_the_referrer_told(
    tenant, referrer_code, monkeypatch
):
    calls: list = []
    record(monkeypatch, calls, fraud_services, "assessment_score")
    record(monkeypatch, calls, tracking, "referral_created_announce")
    record(monkeypatch, calls, rewards_services, "referral_notify")
    record(monkeypatch, calls, rewards_services, "referral_rewards_sync")

    send(tenant, "s1", "signup", "bo", referral={"code": referrer_code.code})

    assert [name for name, _ in calls] == [
        "assessment_score",
        "referral_created_announce",
        "referral_notify",
        "referral_rewards_sync",
    ]
    assert calls[0][1]["stage_key"] == "signup"


def test_fraud_returns_its_verdict_and_the_flow_applies_it(tenant, referrer_code):
    # Same email as the referrer: a self-referral under another id, which fraud rejects.
    send(tenant, "s1", "signup", "ann-alt", referral={"code": referrer_code.code})
    referral = Referral.objects.for_tenant(tenant).get(referee__external_id="ann-alt")
    tracking.participant_upsert(tenant=tenant, external_id="ann-alt", email="ann@shop.test")
    assessment_count = Assessment.objects.for_tenant(tenant).count()

    verdict = fraud_services.assessment_score(referral=referral, stage_key="paid")

    referral.refresh_from_db()
    assert (verdict.decision, verdict.action) == ("reject", "reject")
    assert referral.status == "pending"  # fraud wrote only its own rows
    assert Assessment.objects.for_tenant(tenant).count() == assessment_count + 1
    flow.verdict_apply(referral, verdict)
    referral.refresh_from_db()
    assert (referral.status, referral.status_before_review) == ("rejected", "pending")


def test_no_assessment_means_review_in_the_one_definition(tenant, referrer_code):
    send(tenant, "s1", "signup", "bo", referral={"code": referrer_code.code})
    referral = Referral.objects.for_tenant(tenant).get()
    assert flow.fraud_decision(referral) == "approve"
    Assessment.objects.for_tenant(tenant).filter(referral=referral).delete()

    assert flow.fraud_decision(referral) == "review"
    assert flow.referral_facts(referral).fraud_decision == "review"
    # The engine's own default is the same: facts that do not say are not cleared.
    facts = ReferralFacts(
        referral_id=1,
        created_at=T0,
        referrer=ParticipantFact(1, {}),
        referee=ParticipantFact(2, {}),
    )
    assert facts.fraud_decision == "review"


def test_a_referral_whose_scoring_raises_is_held_for_review_and_never_paid(
    tenant, referrer_code, monkeypatch
):
    import fraud.facts

    def broken(**kwargs):
        raise RuntimeError("the fingerprint store is down")

    monkeypatch.setattr(fraud.facts, "assessment_facts", broken)
    send(tenant, "s1", "signup", "bo", referral={"code": referrer_code.code})
    send(tenant, "p1", "purchase", "bo", amount={"amount_minor": 9900, "currency": "CNY"})

    referral = Referral.objects.for_tenant(tenant).get()
    assert (referral.status, referral.status_before_review) == ("review", "converted")
    assert set(
        Assessment.objects.for_tenant(tenant).values_list("stage_key", "decision", "note")
    ) == {("signup", "review", "assessment_failed"), ("paid", "review", "assessment_failed")}
    reward = Reward.objects.for_tenant(tenant).get()
    assert (reward.status, reward.hold_reason) == ("pending", "review")
    # Long after the hold, every periodic job has run: the cash is still not released.
    with time_machine.travel(T0 + timedelta(days=30), tick=False):
        run_all()
    reward.refresh_from_db()
    assert (reward.status, reward.hold_reason) == ("pending", "review")


def test_a_claim_runs_the_same_flow_as_an_event(tenant, referrer_code, monkeypatch):
    send(tenant, "s1", "signup", "bo")  # no touch: no referral yet
    calls: list = []
    record(monkeypatch, calls, fraud_services, "assessment_score")
    record(monkeypatch, calls, rewards_services, "referral_rewards_sync")

    claim = flow.claim_process(
        tenant=tenant,
        program=referrer_code.program,
        referee_external_id="bo",
        referrer_code=referrer_code.code,
    )

    assert claim.status == "attributed"
    assert [name for name, _ in calls] == ["assessment_score", "referral_rewards_sync"]
    assert Referral.objects.for_tenant(tenant).get().source == "claim"


def test_a_referrals_rewards_alone_and_a_later_assessment_go_through_the_flow(
    tenant, referrer_code
):
    send(tenant, "s1", "signup", "bo", referral={"code": referrer_code.code})
    send(tenant, "p1", "purchase", "bo", amount={"amount_minor": 9900, "currency": "CNY"})
    referral = Referral.objects.for_tenant(tenant).get()
    Reward.objects.for_tenant(tenant).delete()

    # The flow builds the facts and stages once and hands them to rewards.
    (reward,) = flow.referral_rewards_sync(referral=referral)
    assert (reward.amount_minor, reward.hold_reason) == (5000, "hold")

    tracking.participant_upsert(tenant=tenant, external_id="bo", email="ann@shop.test")
    assessment = flow.assessment_run(referral=referral, stage_key="paid")
    referral.refresh_from_db()
    reward.refresh_from_db()
    assert (assessment.decision, referral.status) == ("reject", "rejected")
    assert (reward.status, reward.blocked_reason) == ("rejected", "fraud")


def test_a_claim_contradicting_the_attribution_opens_a_case_and_holds_the_cash(
    tenant, referrer_code
):
    from fraud.models import ReviewCase

    carl, _ = tracking.participant_upsert(tenant=tenant, external_id="carl", email="c@x.test")
    carl_code = tracking.enrollment_create(
        tenant=tenant, program=referrer_code.program, participant=carl
    )[1]
    send(tenant, "s1", "signup", "bo")
    flow.claim_process(
        tenant=tenant,
        program=referrer_code.program,
        referee_external_id="bo",
        referrer_code=referrer_code.code,
    )
    send(tenant, "p1", "purchase", "bo", amount={"amount_minor": 9900, "currency": "CNY"})
    reward = Reward.objects.for_tenant(tenant).get()
    assert reward.hold_reason == "hold"

    second = flow.claim_process(
        tenant=tenant,
        program=referrer_code.program,
        referee_external_id="bo",
        referrer_code=carl_code.code,
    )

    referral = Referral.objects.for_tenant(tenant).get()
    case = ReviewCase.objects.for_tenant(tenant).get(referral=referral)
    reward.refresh_from_db()
    assert (second.status, referral.status, case.status) == ("review", "review", "open")
    assert "attribution_review" in case.signal_codes
    assert (reward.status, reward.hold_reason) == ("pending", "review")
    with time_machine.travel(T0 + timedelta(days=30), tick=False):
        run_all()
    reward.refresh_from_db()
    assert (reward.status, reward.hold_reason) == ("pending", "review")


def test_a_database_error_while_scoring_undoes_the_event_which_is_processed_again(
    tenant, referrer_code, monkeypatch
):
    from django.db import OperationalError

    import fraud.facts
    from tracking.models import Event

    real = fraud.facts.assessment_facts

    def broken(**kwargs):
        raise OperationalError("canceling statement due to statement timeout")

    monkeypatch.setattr(fraud.facts, "assessment_facts", broken)
    assert send(tenant, "s1", "signup", "bo", referral={"code": referrer_code.code}) == "failed"
    event = Event.objects.for_tenant(tenant).get()
    assert (event.status, event.attempts, event.participant_id) == ("accepted", 1, None)
    assert "statement timeout" in event.error
    # Nothing of it stayed: no referral, no assessment, not even the participant.
    assert not Referral.objects.for_tenant(tenant).exists()
    assert not Assessment.objects.for_tenant(tenant).exists()

    monkeypatch.setattr(fraud.facts, "assessment_facts", real)
    with time_machine.travel(clock.now() + timedelta(minutes=10)):  # past the back-off
        assert flow.events_sweep()["processed"] == 1
    referral = Referral.objects.for_tenant(tenant).get()
    assert (referral.referee.external_id, referral.status) == ("bo", "pending")
    assert list(
        Assessment.objects.for_tenant(tenant).values_list("stage_key", "decision", "note")
    ) == [("signup", "approve", "")]


def test_a_participant_created_by_its_signup_has_its_new_referral_advanced_unread(
    tenant, referrer_code, monkeypatch
):
    from tracking.models import ReferralStage

    reads = []
    record(monkeypatch, reads, tracking, "event_referrals")
    assert send(tenant, "s1", "signup", "bo", referral={"code": referrer_code.code}) == (
        "processed"
    )
    # Created by this sign-up: its one referral is the one just opened, advanced unread.
    assert reads == []
    referral = Referral.objects.for_tenant(tenant).get(referee__external_id="bo")
    stages = ReferralStage.objects.for_tenant(tenant).filter(referral=referral)
    assert list(stages.values_list("stage_key", flat=True)) == ["signup"]
    # A purchase of a participant we know reads its referrals.
    purchase = {"amount_minor": 9900, "currency": "CNY"}
    assert send(tenant, "p1", "purchase", "bo", amount=purchase) == "processed"
    assert len(reads) == 1
    referral.refresh_from_db()
    assert referral.status == "converted"
