"""assessment_run against real rows: decisions, status changes, cases, audit, fail-closed."""

from __future__ import annotations

import functools

import pytest

from fraud import services
from fraud.models import Assessment, CaseStatus, ReviewCase
from fraud.selectors import assessment_summary, referral_fraud_decision, referrer_facing_status
from pipeline import flow
from referral_platform.core.models import AuditEntry
from rewards import services as rewards_services


@pytest.fixture
def rewards_calls(monkeypatch):
    """Record what fraud asks of rewards (the rewards app is built separately)."""
    calls = []

    def fake(name, **kwargs):
        calls.append((name, kwargs.get("referral").pk, kwargs.get("reason")))
        return True

    for name in ("rewards_hold_for_review", "rewards_release_after_review", "rewards_reject"):
        monkeypatch.setattr(rewards_services, name, functools.partial(fake, name))
    return calls


def test_an_honest_referral_is_approved_and_left_alone(tenant, program, make, rewards_calls):
    ann = make.participant(tenant, email="ann@gmail.com", phone="+8613800138000")
    bob = make.participant(tenant, email="bob@qq.com", phone="+8613900139000")
    make.event(ann, context={"ip": "203.0.113.7", "device_id": "d-ann"})
    make.event(
        bob,
        context={"ip": "198.51.100.9", "device_id": "d-bob", "user_agent": "Mozilla/5.0 Safari"},
    )
    referral = make.referral(program, ann, bob)

    assessment = flow.assessment_run(referral=referral, stage_key="signup")

    referral.refresh_from_db()
    assert (assessment.score, assessment.decision, assessment.signals) == (0, "approve", [])
    assert referral.status == "pending"
    assert rewards_calls == []
    assert referral_fraud_decision(referral) == "approve"


def test_a_gmail_dot_self_referral_is_rejected_and_its_rewards_rejected(
    tenant, program, make, rewards_calls
):
    ann = make.participant(tenant, email="ann.lee@gmail.com")
    alt = make.participant(tenant, email="annlee+2@gmail.com")
    referral = make.referral(program, ann, alt, status="converted")

    assessment = flow.assessment_run(referral=referral, stage_key="purchase")

    referral.refresh_from_db()
    assert (assessment.decision, assessment.score) == ("reject", 100)
    assert assessment.signal_codes == ["same_email"]
    assert (referral.status, referral.status_before_review) == ("rejected", "converted")
    assert rewards_calls == [("rewards_reject", referral.pk, "fraud")]
    assert referrer_facing_status(referral) == "Not eligible for a reward"
    entry = AuditEntry.objects.for_tenant(tenant).get(action="fraud.reject")
    assert (entry.target_id, entry.data["signals"]) == (str(referral.pk), ["same_email"])


def test_a_same_company_domain_goes_to_review_with_a_case_against_the_sla(
    tenant, program, make, rewards_calls
):
    ann = make.participant(tenant, email="ann@acme-widgets.com")
    bob = make.participant(tenant, email="bob@acme-widgets.com")
    referral = make.referral(program, ann, bob, status="qualified")

    assessment = flow.assessment_run(referral=referral, stage_key="signup")

    referral.refresh_from_db()
    case = ReviewCase.objects.for_tenant(tenant).get(referral=referral)
    assert assessment.decision == "review"
    assert (referral.status, referral.status_before_review) == ("review", "qualified")
    assert (case.status, case.signal_codes) == (CaseStatus.OPEN, ["same_domain"])
    assert (case.due_at - case.opened_at).total_seconds() == 48 * 3600
    assert rewards_calls == [("rewards_hold_for_review", referral.pk, None)]
    assert referrer_facing_status(referral) == "Being confirmed"
    summary = assessment_summary(referral)
    assert summary["decision"] == "review" and summary["review"]["status"] == "open"
    assert summary["signals"][0]["code"] == "same_domain"


def test_decisions_follow_the_tenants_and_the_programs_thresholds(
    tenant, program, make, owner, rewards_calls
):
    ann = make.participant(tenant, email="ann@gmail.com")
    make.event(ann, context={"ip": "203.0.113.7"})
    bob = make.participant(tenant, email="bob@gmail.com")
    make.event(bob, context={"ip": "203.0.113.7"})
    referral = make.referral(program, ann, bob)
    # same_ip weighs 25: under the default review threshold of 30.
    assert flow.assessment_run(referral=referral, stage_key="signup").decision == "approve"

    services.policy_update(tenant=tenant, actor=owner, review_threshold=20, reject_threshold=90)
    assert flow.assessment_run(referral=referral, stage_key="signup").decision == "review"

    referral.refresh_from_db()
    referral.status = "pending"
    referral.save()
    ReviewCase.objects.for_tenant(tenant).all().delete()
    services.policy_update(tenant=tenant, actor=owner, program=program, weights={"same_ip": 95})
    result = flow.assessment_run(referral=referral, stage_key="signup")
    assert (result.score, result.decision) == (95, "reject")
    assert Assessment.objects.for_tenant(tenant).filter(referral=referral).count() == 1


def test_cash_fails_closed_into_review_when_the_assessment_cannot_run(
    tenant, program, make, monkeypatch, rewards_calls
):
    import fraud.facts

    def broken(**kwargs):
        raise RuntimeError("database hiccup")

    monkeypatch.setattr(fraud.facts, "assessment_facts", broken)
    referral = make.referral(
        program, make.participant(tenant), make.participant(tenant), status="converted"
    )

    assessment = flow.assessment_run(referral=referral, stage_key="purchase")

    referral.refresh_from_db()
    assert (assessment.decision, assessment.note, assessment.signal_codes) == (
        "review",
        "assessment_failed",
        ["assessment_failed"],
    )
    assert referral.status == "review"
    assert rewards_calls == [("rewards_hold_for_review", referral.pk, None)]


def test_a_referral_never_assessed_counts_as_review_for_the_rule_engine(tenant, program, make):
    referral = make.referral(program, make.participant(tenant), make.participant(tenant))
    assert referral_fraud_decision(referral) == "review"


def test_the_newest_assessment_handed_in_is_the_decision_unless_the_status_says_otherwise(
    tenant, program, make, django_assert_num_queries
):
    referral = make.referral(program, make.participant(tenant), make.participant(tenant))
    assessment = flow.assessment_run(referral=referral, stage_key="signup", new=True)
    assert assessment.decision == "approve"
    with django_assert_num_queries(0):
        assert referral_fraud_decision(referral, latest=assessment) == "approve"
    assert referral_fraud_decision(referral) == "approve"  # read: the same answer
    referral.status = "review"
    assert referral_fraud_decision(referral, latest=assessment) == "review"
    referral.status = "rejected"
    assert referral_fraud_decision(referral, latest=assessment) == "reject"


def test_velocity_fires_for_the_third_referee_from_one_ip(tenant, program, make, rewards_calls):
    ann = make.participant(tenant, email="ann@gmail.com")
    decisions = []
    for n in range(3):
        friend = make.participant(tenant, email=f"friend{n}@qq.com")
        make.event(friend, context={"ip": "192.0.2.50", "device_id": f"d{n}"})
        referral = make.referral(program, ann, friend)
        decisions.append(flow.assessment_run(referral=referral, stage_key="signup"))
    assert [d.decision for d in decisions] == ["approve", "approve", "review"]
    assert decisions[2].signal_codes == ["velocity"]
    # The third one implicates the first two, whose cash is still in its hold.
    for earlier in decisions[:2]:
        earlier.refresh_from_db()
        earlier.referral.refresh_from_db()
        assert (earlier.decision, earlier.referral.status) == ("review", "review")


def test_a_new_referral_sharing_a_payment_card_with_a_rejected_one_is_a_ring(
    tenant, program, make, rewards_calls
):
    mule = make.participant(tenant, email="mule1@qq.com")
    make.event(mule, context={"payment_fingerprint": "card-777"})
    bad = make.referral(
        program, make.participant(tenant, email="boss@qq.com"), mule, status="rejected"
    )
    assert bad.status == "rejected"
    flow.assessment_run(referral=bad, stage_key="signup")

    mule2 = make.participant(tenant, email="mule2@163.com")
    make.event(mule2, context={"payment_fingerprint": "card-777"})
    referral = make.referral(program, make.participant(tenant, email="other@gmail.com"), mule2)
    assessment = flow.assessment_run(referral=referral, stage_key="signup")
    assert assessment.signal_codes == ["ring", "payment_reuse"]
    assert (assessment.score, assessment.decision) == (100, "reject")


def test_every_signal_carries_its_published_default_weight():
    from fraud import signals as s
    from fraud.tests.test_signals import facts, ident

    loud = facts(
        ident(
            email="a@acme.io",
            phone="+8613800138000",
            device="d",
            payment="p",
            address="x st",
            ip="203.0.113.7",
            company_id="c",
        ),
        ident(
            email="a@acme.io",
            phone="+8613800138000",
            device="d",
            payment="p",
            address="x st",
            ip="203.0.113.7",
            company_id="c",
            ua=["HeadlessChrome"],
        ),
        velocity={"ip": 5},
        signups_last_hour=9,
        click_to_signup_seconds=1,
        signup_to_purchase_seconds=1,
        referrer_purchases=5,
        referrer_refunds=5,
        refund_after_reward_days=1,
        blocklisted=("ip",),
        ring_kinds=("device",),
        code_leaked=True,
        referee_email_disposable=True,
    )
    fired = s.detect(loud)
    assert len(fired) >= 18
    assert all(sig.weight == s.DEFAULT_WEIGHTS[sig.code] for sig in fired)
    assert set(s.DEFAULT_WEIGHTS) == set(s.SIGNAL_CODES)


def test_a_referral_tracking_held_for_attribution_lands_in_the_queue(
    tenant, program, make, rewards_calls
):
    referral = make.referral(
        program,
        make.participant(tenant, email="a@gmail.com"),
        make.participant(tenant, email="b@qq.com"),
        status="review",
    )
    referral.status_before_review = "pending"
    referral.evidence = {"outcome": "review"}
    referral.save()

    assessment = flow.assessment_run(referral=referral, stage_key="signup")

    case = ReviewCase.objects.for_tenant(tenant).get(referral=referral)
    assert (assessment.decision, case.status, case.signal_codes) == (
        "review",
        CaseStatus.OPEN,
        ["attribution_review"],
    )
    assert rewards_calls == [("rewards_hold_for_review", referral.pk, None)]


def test_a_flagged_conversion_emits_the_conversion_flagged_webhook(
    tenant, program, make, rewards_calls
):
    from referral_platform.webhooks.models import WebhookMessage
    from referral_platform.webhooks.services import webhook_endpoint_create

    webhook_endpoint_create(
        tenant=tenant, url="https://93.184.215.14/hook", events=["conversion.flagged"]
    )
    ann = make.participant(tenant, email="ann@acme-widgets.com", external_id="ann")
    bob = make.participant(tenant, email="bob@acme-widgets.com", external_id="bob")
    referral = make.referral(program, ann, bob)
    flow.assessment_run(referral=referral, stage_key="signup")

    message = WebhookMessage.unscoped.get(tenant=tenant, type="conversion.flagged")
    assert message.data == {
        "referral": referral.pk,
        "program": "green-home",
        "referrer": "ann",
        "referee": "bob",
        "stage": "signup",
        "decision": "review",
        "score": 35,
        "signals": ["same_domain"],
    }


def test_the_sweep_scores_referrals_that_were_never_assessed(tenant, program, make, rewards_calls):
    from datetime import timedelta

    import time_machine

    from pipeline.jobs import assess_missed
    from referral_platform.core import clock

    referral = make.referral(
        program,
        make.participant(tenant, email="a@gmail.com"),
        make.participant(tenant, email="b@qq.com"),
    )
    assert assess_missed() == {"assessed": 0}  # still within the grace period
    with time_machine.travel(clock.now() + timedelta(minutes=6)):
        assert assess_missed() == {"assessed": 1}
        assert assess_missed() == {"assessed": 0}
    assert Assessment.objects.for_tenant(tenant).get(referral=referral).decision == "approve"
    assert rewards_calls == [("rewards_release_after_review", referral.pk, None)]


def test_referees_of_different_referrers_paying_with_one_card_are_flagged(
    tenant, program, make, rewards_calls
):
    first = make.participant(tenant, email="m1@qq.com")
    make.event(first, type="purchase", context={"payment_fingerprint": "card-ring"})
    flow.assessment_run(
        referral=make.referral(program, make.participant(tenant, email="r1@gmail.com"), first),
        stage_key="paid",
    )
    second = make.participant(tenant, email="m2@163.com")
    make.event(second, type="purchase", context={"payment_fingerprint": "card-ring"})
    assessment = flow.assessment_run(
        referral=make.referral(program, make.participant(tenant, email="r2@gmail.com"), second),
        stage_key="paid",
    )
    assert (assessment.signal_codes, assessment.decision) == (["payment_reuse"], "review")


def test_a_refund_days_after_the_rewards_hold_is_scored_by_the_refund_sweep(
    tenant, program, make, rewards_calls
):
    from datetime import timedelta

    from pipeline.jobs import assess_refunds
    from referral_platform.core import clock
    from tracking.models import ReferralStage

    now = clock.now()
    ann = make.participant(tenant, email="ann@gmail.com")
    bob = make.participant(tenant, email="bob@qq.com")
    referral = make.referral(program, ann, bob, status="converted", at=now - timedelta(days=12))
    ReferralStage.unscoped.create(
        tenant=tenant,
        referral=referral,
        stage_key="paid",
        status_set="converted",
        occurred_at=now - timedelta(days=10),
        due_at=now - timedelta(days=3),
    )
    flow.assessment_run(referral=referral, stage_key="paid")
    refund = make.event(bob, type="refund", at=now - timedelta(days=1))

    assert assess_refunds() == {"assessed": 1}
    assert assess_refunds() == {"assessed": 0}
    assessment = Assessment.objects.for_tenant(tenant).get(
        referral=referral, stage_key=f"refund:{refund.pk}"
    )
    assert assessment.signal_codes == ["refund_after_reward"]
    assert (
        assessment.signals[0]["reason"]
        == "The referee refunded 2 days after the reward's hold ended."
    )
