"""The refund sweep scores a refund as an outcome anomaly. A refund inside the hold has
already reversed what it undid (SEMANTICS §5): when the referral is left with no unreleased
reward, a review could hold or reject nothing, so it stays out of the queue. The refund
still counts towards the referrer's refund rate on their other referrals."""

from __future__ import annotations

from datetime import timedelta

import pytest

from fraud.models import Assessment, ReviewCase
from fraud.selectors import review_queue
from pipeline.flow import assessment_run
from pipeline.jobs import assess_refunds
from referral_platform.core import clock
from rewards.models import Reward
from tracking.models import ReferralStage


@pytest.fixture
def now():
    return clock.now()


def _paid(program, referral, *, now, reversed_at=None):
    """The paying stage, reached 4 days ago with a 7-day hold."""
    return ReferralStage.unscoped.create(
        tenant_id=program.tenant_id,
        referral=referral,
        stage_key="paid",
        status_set="converted",
        occurred_at=now - timedelta(days=4),
        due_at=now + timedelta(days=3),
        reversed_at=reversed_at,
    )


def _reward(referral, status, hold_reason="", rule_key="paid_cash"):
    return Reward.unscoped.create(
        tenant_id=referral.tenant_id,
        program=referral.program,
        program_version=referral.program_version,
        participant=referral.referrer,
        referral=referral,
        side="referrer",
        scope=f"referral:{referral.pk}",
        reason=f"stage:{rule_key}",
        rule_key=rule_key,
        kind="cash",
        amount_minor=5000,
        currency="CNY",
        status=status,
        hold_reason=hold_reason,
    )


@pytest.fixture
def refunding_referrer(tenant, program, make, now):
    """Ann referred Bob, Dan, Cat, Eve and Fay, who all bought 4 days ago. Bob and Dan
    refunded yesterday, inside the 7-day hold: their stage went back and its reward was
    reversed. Cat kept hers; her reward waits for its hold. Zed's twenty friends bought and
    kept it, so Ann's refund rate (2 of 5, enough purchases to be a rate) stands out against
    the program's (2 of 25)."""
    ann = make.participant(tenant, email="ann@gmail.com")
    referrals = {}
    for n, name in enumerate(("bob", "dan", "cat", "eve", "fay")):
        friend = make.participant(tenant, email=f"{name}@qq.com")
        make.event(friend, type="purchase", at=now - timedelta(days=4))
        referral = make.referral(program, ann, friend, at=now - timedelta(days=5, hours=2 * n))
        referrals[name] = referral
    zed = make.participant(tenant, email="zed@gmail.com")
    for n in range(20):
        friend = make.participant(tenant, email=f"z{n}@163.com")
        make.event(friend, type="purchase", at=now - timedelta(days=4))
        make.referral(program, zed, friend, at=now - timedelta(days=5), code=f"Z{n}")
    cat = referrals["cat"]
    _paid(program, cat, now=now)
    _reward(cat, "pending", "hold")
    assert assessment_run(referral=cat, stage_key="paid").decision == "approve"
    refunds = {}
    for name in ("bob", "dan"):
        referral = referrals[name]
        _paid(program, referral, now=now, reversed_at=now - timedelta(days=1))
        _reward(referral, "reversed")
        refunds[name] = make.event(referral.referee, type="refund", at=now - timedelta(days=1))
    return referrals, refunds


def test_a_refund_inside_the_hold_that_reversed_everything_is_not_queued(
    tenant, refunding_referrer
):
    referrals, refunds = refunding_referrer
    bob = referrals["bob"]

    assert assess_refunds() == {"assessed": 2}

    assessment = Assessment.objects.for_tenant(tenant).get(
        referral=bob, stage_key=f"refund:{refunds['bob'].pk}"
    )
    # On record as scored, with why it did not go to the queue.
    assert (assessment.score, assessment.signal_codes) == (35, ["refund_anomaly"])
    assert (assessment.decision, assessment.note) == ("approve", "nothing_at_stake")
    bob.refresh_from_db()
    assert (bob.status, bob.status_before_review) == ("pending", "")
    # The refund rate still tells on Ann's other referral, whose reward is in its hold.
    cat = referrals["cat"]
    cat.refresh_from_db()
    assert [case.referral_id for case in review_queue(tenant)] == [cat.pk]
    assert (cat.status, cat.status_before_review) == ("review", "pending")
    assert Reward.objects.for_tenant(tenant).get(referral=cat).hold_reason == "review"
    assert (
        not ReviewCase.objects.for_tenant(tenant)
        .filter(referral__in=[bob, referrals["dan"]])
        .exists()
    )


def test_a_refund_inside_the_hold_that_left_a_reward_unreleased_is_queued(
    tenant, refunding_referrer
):
    referrals, refunds = refunding_referrer
    bob = referrals["bob"]
    # A partial refund kept one of Bob's rewards: something is still at stake.
    _reward(bob, "pending", "hold", rule_key="kept")

    assess_refunds()

    assessment = Assessment.objects.for_tenant(tenant).get(
        referral=bob, stage_key=f"refund:{refunds['bob'].pk}"
    )
    assert (assessment.decision, assessment.note) == ("review", "")
    bob.refresh_from_db()
    assert bob.status == "review"
    assert sorted(case.referral_id for case in review_queue(tenant)) == sorted(
        [bob.pk, referrals["cat"].pk]
    )
    kept = Reward.objects.for_tenant(tenant).get(referral=bob, status="pending")
    assert kept.hold_reason == "review"


def test_a_refund_inside_a_hold_is_not_a_refund_after_the_reward(tenant, program, make, now):
    """The friend's welcome stage (no hold) ended days before; the paid stage's hold had
    not: the refund is inside that hold, not "after the reward's hold ended"."""
    ann = make.participant(tenant, email="ann@gmail.com")
    bob = make.participant(tenant, email="bob@qq.com")
    referral = make.referral(program, ann, bob, at=now - timedelta(days=5))
    ReferralStage.unscoped.create(
        tenant=tenant,
        referral=referral,
        stage_key="welcome",
        status_set="pending",
        occurred_at=now - timedelta(days=5),
        due_at=now - timedelta(days=5),
    )
    _paid(program, referral, now=now, reversed_at=now - timedelta(days=1))
    make.event(bob, type="purchase", at=now - timedelta(days=4))
    refund = make.event(bob, type="refund", at=now - timedelta(days=1))

    assessment = assessment_run(referral=referral, stage_key=f"refund:{refund.pk}")

    assert (assessment.score, assessment.decision, assessment.signals) == (0, "approve", [])
    assert not review_queue(tenant).exists()
