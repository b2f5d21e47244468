from datetime import datetime, timedelta

import pytest
import time_machine
from django.core.management import call_command

from pipeline.flow import referral_rewards_sync, refund_apply
from referral_platform.core.periodic import run_all
from rewards import ledger
from rewards.models import LedgerEntry, Payout, PayoutStatus, Reward
from rewards.services import (
    payout_mark_failed,
    payout_mark_paid,
    reward_choose,
    reward_donate_instead,
    rewards_hold_for_review,
    rewards_reject,
    rewards_release_after_review,
)
from rewards.tests import factories as f

T0 = datetime.fromisoformat("2026-03-02T10:00:00+00:00")
DUE = T0 + timedelta(days=7)


@pytest.fixture
def setup(tenant, engine):
    prog = f.program(tenant)
    ref = f.referral(tenant, prog)
    scope = f"referral:{ref.pk}"
    engine.answer = lambda facts: [
        f.decision(
            ref.referrer,
            scope,
            "paid-points",
            points=300,
            due_at=DUE,
            cap_slot=("monthly", "2026-03"),
        ),
        f.decision(
            ref.referrer,
            scope,
            "paid-coupon",
            kind="coupon",
            amount_minor=2500,
            due_at=DUE,
            details={"min_spend": 12900, "valid_days": 14},
        ),
    ]
    return prog, ref


def _rows(tenant):
    return {r.rule_key: r for r in Reward.objects.for_tenant(tenant).order_by("id")}


def test_sync_writes_one_row_per_item_and_a_second_sync_writes_nothing(tenant, setup):
    prog, ref = setup
    first = referral_rewards_sync(referral=ref)
    second = referral_rewards_sync(referral=ref)
    assert len(first) == 2 and second == []
    rows = _rows(tenant)
    assert rows["paid-points"].status == "pending" and rows["paid-points"].hold_reason == "hold"
    assert rows["paid-points"].cap_slot == "monthly|2026-03"
    assert (
        rows["paid-points"].scope == f"referral:{ref.pk}"
        and rows["paid-points"].reason == "stage:paid-points"
    )
    assert rows["paid-points"].program_version_id == prog.current_version_id
    assert not LedgerEntry.objects.for_tenant(tenant).exists()


def test_slots_taken_by_other_referrals_of_the_referrer_reach_the_engine(tenant, engine):
    # The slots are read for a cap; a program without one does not read them.
    cap = {"key": "monthly", "measure": "count", "limit": 5, "period": "month"}
    prog = f.program(tenant, spec={**f.SPEC, "caps": [cap]})
    referrer = f.participant(tenant)
    refs = [f.referral(tenant, prog, referrer=referrer) for _ in range(3)]
    engine.answer = lambda facts: [
        f.decision(
            referrer,
            f"referral:{facts.referral_id}",
            "paid-points",
            points=300,
            due_at=DUE,
            cap_slot=("monthly", "2026-03"),
        )
    ]
    for r in refs:
        referral_rewards_sync(referral=r)
    assert [dict(facts.slots_used) for facts in engine.seen] == [
        {},
        {("monthly", "2026-03"): 1},
        {("monthly", "2026-03"): 2},
    ]
    # The referral that holds a slot sees it as its own, not as used by others.
    referral_rewards_sync(referral=refs[0])
    assert dict(engine.seen[-1].slots_used) == {("monthly", "2026-03"): 2}
    assert dict(engine.seen[-1].cap_state) == {"monthly": "held"}


def test_nothing_is_released_before_due_at_and_everything_is_fulfilled_after(tenant, setup):
    _, ref = setup
    with time_machine.travel(T0, tick=False):
        referral_rewards_sync(referral=ref)
        run_all()
    assert {r.status for r in _rows(tenant).values()} == {"pending"}
    with time_machine.travel(DUE + timedelta(minutes=1), tick=False):
        result = run_all()
    assert result["rewards.release_due"] == {"released": 2, "fulfilled": 2}
    rows = _rows(tenant)
    assert rows["paid-points"].status == "fulfilled" and rows["paid-coupon"].status == "fulfilled"
    assert rows["paid-coupon"].details["code"].startswith("RF-")
    assert rows["paid-coupon"].expires_at == DUE + timedelta(minutes=1, days=14)
    account = ledger.participant_account(ref.referrer_id)
    assert ledger.balances(tenant.pk, account) == {"CNY": 2500, "points": 300}
    assert ledger.verify_ledger(tenant.pk) == []


def test_a_reward_under_review_is_never_released_until_ops_approves(tenant, setup):
    _, ref = setup
    referral_rewards_sync(referral=ref)
    assert rewards_hold_for_review(referral=ref) == 2
    with time_machine.travel(DUE + timedelta(days=1), tick=False):
        run_all()
        assert {r.status for r in _rows(tenant).values()} == {"pending"}
        assert rewards_release_after_review(referral=ref) == 2
        run_all()
    assert {r.status for r in _rows(tenant).values()} == {"fulfilled"}


def test_rejecting_for_fraud_blocks_unreleased_rewards(tenant, setup):
    _, ref = setup
    referral_rewards_sync(referral=ref)
    assert rewards_reject(referral=ref, reason="fraud") == 2
    rows = _rows(tenant)
    assert {(r.status, r.blocked_reason) for r in rows.values()} == {("rejected", "fraud")}
    with time_machine.travel(DUE + timedelta(days=1), tick=False):
        run_all()
    assert not LedgerEntry.objects.for_tenant(tenant).exists()


def test_a_refund_inside_the_hold_reverses_the_pending_rewards_and_frees_the_slot(tenant, setup):
    _, ref = setup
    f.event(tenant, ref.referee, "purchase", T0, amount_minor=12000)
    referral_rewards_sync(referral=ref)
    refund = f.event(tenant, ref.referee, "refund", T0 + timedelta(days=3), amount_minor=12000)
    reversed_ = refund_apply(referral=ref, event=refund)
    assert len(reversed_) == 2
    rows = _rows(tenant)
    assert {r.status for r in rows.values()} == {"reversed"}
    assert rows["paid-points"].slot_freed is True
    assert not LedgerEntry.objects.for_tenant(tenant).exists()


def test_a_late_refund_that_occurred_inside_the_hold_reverses_even_a_fulfilled_reward(
    tenant, setup
):
    _, ref = setup
    f.event(tenant, ref.referee, "purchase", T0, amount_minor=12000)
    referral_rewards_sync(referral=ref)
    with time_machine.travel(DUE + timedelta(days=2), tick=False):
        run_all()
        refund = f.event(tenant, ref.referee, "refund", T0 + timedelta(days=5), amount_minor=12000)
        refund_apply(referral=ref, event=refund)
    rows = _rows(tenant)
    assert (
        rows["paid-coupon"].status == "reversed"
        and rows["paid-coupon"].reversed_amount_minor == 2500
    )
    kinds = sorted(
        LedgerEntry.objects.for_tenant(tenant).values_list("entry_kind", "amount_minor", "points")
    )
    assert kinds == [
        ("credit", 0, 300),
        ("credit", 2500, 0),
        ("reversal", -2500, 0),
        ("reversal", 0, -300),
    ]
    assert ledger.balances(tenant.pk, ledger.participant_account(ref.referrer_id)) == {}


def test_a_refund_after_the_hold_keeps_the_reward_when_clawback_days_is_zero(tenant, setup):
    _, ref = setup
    f.event(tenant, ref.referee, "purchase", T0, amount_minor=12000)
    referral_rewards_sync(referral=ref)
    with time_machine.travel(DUE + timedelta(days=2), tick=False):
        run_all()
        refund = f.event(tenant, ref.referee, "refund", DUE + timedelta(days=1), amount_minor=12000)
        assert refund_apply(referral=ref, event=refund) == []
    assert {r.status for r in _rows(tenant).values()} == {"fulfilled"}


def test_a_refund_after_the_hold_claws_back_within_clawback_days(tenant, engine):
    spec = {**f.SPEC, "clawback_days": 30}
    prog = f.program(tenant, spec=spec)
    ref = f.referral(tenant, prog)
    engine.answer = lambda facts: [
        f.decision(ref.referrer, f"referral:{ref.pk}", "paid-points", points=300, due_at=DUE)
    ]
    f.event(tenant, ref.referee, "purchase", T0, amount_minor=12000)
    referral_rewards_sync(referral=ref)
    with time_machine.travel(DUE + timedelta(days=40), tick=False):
        run_all()
        late = f.event(tenant, ref.referee, "refund", DUE + timedelta(days=10), amount_minor=12000)
        refund_apply(referral=ref, event=late)
    reward = Reward.objects.for_tenant(tenant).get()
    assert reward.status == "reversed" and reward.slot_freed is False
    assert list(
        LedgerEntry.objects.for_tenant(tenant).order_by("id").values_list("entry_kind", "points")
    ) == [("credit", 300), ("clawback", -300)]


def test_a_partial_refund_reverses_only_when_what_remains_falls_below_the_threshold(tenant, setup):
    _, ref = setup
    f.event(tenant, ref.referee, "purchase", T0, amount_minor=15000)
    referral_rewards_sync(referral=ref)
    small = f.event(tenant, ref.referee, "refund", T0 + timedelta(days=1), amount_minor=3000)
    assert refund_apply(referral=ref, event=small) == []  # 120.00 left ≥ 99.00
    more = f.event(tenant, ref.referee, "refund", T0 + timedelta(days=2), amount_minor=3000)
    assert len(refund_apply(referral=ref, event=more)) == 2  # 90.00 left < 99.00


def test_cash_is_requested_by_webhook_and_fulfilled_only_when_marked_paid(tenant, engine):
    prog = f.program(tenant)
    ref = f.referral(tenant, prog)
    engine.answer = lambda facts: [
        f.decision(
            ref.referrer,
            f"referral:{ref.pk}",
            "mql-cash",
            kind="cash",
            amount_minor=5000,
            due_at=T0,
        )
    ]
    referral_rewards_sync(referral=ref)
    with time_machine.travel(T0 + timedelta(hours=1), tick=False):
        run_all()
    reward = Reward.objects.for_tenant(tenant).get()
    payout = Payout.objects.for_tenant(tenant).get()
    assert (
        reward.status == "approved" and payout.status == "requested" and payout.amount_minor == 5000
    )
    assert payout.batch.cadence == "week" and payout.batch.period_key == "2026-W10"
    run_all()
    assert Payout.objects.for_tenant(tenant).count() == 1
    payout_mark_failed(payout=payout, reason="bank said no")
    reward.refresh_from_db()
    assert reward.status == "approved"
    assert not LedgerEntry.objects.for_tenant(tenant).exists()
    from rewards.services import payout_request_again

    payout_request_again(reward=reward)
    again = Payout.objects.for_tenant(tenant).get(status=PayoutStatus.REQUESTED)
    payout_mark_paid(payout=again)
    reward.refresh_from_db()
    assert reward.status == "fulfilled"
    assert ledger.balances(tenant.pk, ledger.participant_account(ref.referrer_id)) == {"CNY": 5000}


@pytest.fixture
def approved_cash(tenant, engine):
    """A referral whose ¥50 cash reward is approved, its payout requested, not yet paid."""
    prog = f.program(tenant)
    ref = f.referral(tenant, prog)
    engine.answer = lambda facts: [
        f.decision(
            ref.referrer, f"referral:{ref.pk}", "paid-cash", kind="cash", amount_minor=5000,
            due_at=T0,
        )
    ]  # fmt: skip
    referral_rewards_sync(referral=ref)
    with time_machine.travel(T0 + timedelta(hours=1), tick=False):
        run_all()
    assert Payout.objects.for_tenant(tenant).get().status == PayoutStatus.REQUESTED
    return ref


def test_an_approved_reward_back_in_review_is_not_paid_out_until_ops_approves(
    tenant, approved_cash
):
    from referral_platform.core.errors import Conflict
    from rewards.services import payout_request_again

    ref = approved_cash
    assert rewards_hold_for_review(referral=ref) == 1
    reward = Reward.objects.for_tenant(tenant).get()
    assert (reward.status, reward.hold_reason) == ("approved", "review")
    # The payout waiting in its batch is withdrawn, and nothing requests another meanwhile.
    assert Payout.objects.for_tenant(tenant).get().status == PayoutStatus.CANCELLED
    with time_machine.travel(T0 + timedelta(days=2), tick=False):
        assert run_all()["rewards.fulfil_approved"] == {}
    with pytest.raises(Conflict):
        payout_request_again(reward=reward)
    assert not Payout.objects.for_tenant(tenant).filter(status=PayoutStatus.REQUESTED).exists()
    # Ops clears the referral: the next tick requests the payout again, for the full amount.
    assert rewards_release_after_review(referral=ref) == 1
    with time_machine.travel(T0 + timedelta(days=2), tick=False):
        assert run_all()["rewards.fulfil_approved"] == {"payout_requested": 1}
    reward.refresh_from_db()
    payout = Payout.objects.for_tenant(tenant).get(status=PayoutStatus.REQUESTED)
    assert (reward.status, reward.hold_reason, payout.amount_minor) == ("approved", "", 5000)
    payout_mark_paid(payout=payout)
    reward.refresh_from_db()
    assert reward.status == "fulfilled"
    assert ledger.balances(tenant.pk, ledger.participant_account(ref.referrer_id)) == {"CNY": 5000}


def test_a_withdrawn_payout_tells_the_tenant_why(tenant, approved_cash):
    from referral_platform.webhooks.models import WebhookEndpoint, WebhookMessage

    WebhookEndpoint.unscoped.create(
        tenant=tenant, url="https://hooks.example.com/in", secret="whsec_test", events=[]
    )
    payout = Payout.objects.for_tenant(tenant).get()
    assert rewards_reject(referral=approved_cash, reason="fraud") == 1
    [message] = WebhookMessage.objects.for_tenant(tenant).filter(type="payout.cancelled")
    assert message.data["reason"] == "rejected"
    assert (message.data["payout"]["id"], message.data["payout"]["status"]) == (
        payout.pk,
        "cancelled",
    )
    assert message.data["payout"]["amount"] == {"amount_minor": 5000, "currency": "CNY"}
    from referral_platform.core.models import AuditEntry

    [entry] = AuditEntry.objects.for_tenant(tenant).filter(action="payout.cancelled")
    assert (entry.target_id, entry.data) == (str(payout.pk), {"reward": payout.reward_id,
                                                              "reason": "rejected"})  # fmt: skip


def test_an_approved_reward_back_in_review_and_rejected_is_never_paid(tenant, approved_cash):
    ref = approved_cash
    rewards_hold_for_review(referral=ref)
    assert rewards_reject(referral=ref, reason="fraud") == 1
    reward = Reward.objects.for_tenant(tenant).get()
    assert (reward.status, reward.blocked_reason, reward.hold_reason) == ("rejected", "fraud", "")
    with time_machine.travel(T0 + timedelta(days=2), tick=False):
        run_all()
    assert list(Payout.objects.for_tenant(tenant).values_list("status", flat=True)) == [
        PayoutStatus.CANCELLED
    ]
    assert not LedgerEntry.objects.for_tenant(tenant).exists()


def test_choosing_changes_the_row_once_and_a_second_choice_is_a_no_op(tenant, engine):
    prog = f.program(tenant)
    ref = f.referral(tenant, prog)
    options = (
        {
            "key": "coupon",
            "kind": "coupon",
            "amount": 2500,
            "min_spend": 12900,
            "valid_days": 14,
            "description": "¥25 coupon",
        },
        {"key": "points", "kind": "points", "points": 250, "description": "250 points"},
    )
    engine.answer = lambda facts: [
        f.decision(
            ref.referrer,
            f"referral:{ref.pk}",
            "choice",
            kind="coupon",
            amount_minor=2500,
            due_at=DUE,
            options=options,
            choice_deadline=DUE + timedelta(days=7),
            hold_reason="choice",
        )
    ]
    referral_rewards_sync(referral=ref)
    reward = Reward.objects.for_tenant(tenant).get()
    chosen = reward_choose(reward=reward, option_index=1, actor_label="participant:x")
    assert (chosen.kind, chosen.points, chosen.amount_minor) == ("points", 250, None)
    assert [o["chosen"] for o in chosen.options] == [False, True]
    again = reward_choose(reward=reward, option_index=0, actor_label="participant:x")
    assert (again.kind, again.points) == ("points", 250)
    with time_machine.travel(DUE + timedelta(minutes=1), tick=False):
        run_all()
    assert ledger.balances(tenant.pk, ledger.participant_account(ref.referrer_id)) == {
        "points": 250
    }


def test_an_unchosen_reward_waits_for_its_deadline_then_pays_the_default(tenant, engine):
    prog = f.program(tenant)
    ref = f.referral(tenant, prog)
    engine.answer = lambda facts: [
        f.decision(
            ref.referrer,
            f"referral:{ref.pk}",
            "choice",
            kind="points",
            points=300,
            due_at=DUE,
            options=(
                {"key": "a", "kind": "points", "points": 300},
                {"key": "b", "kind": "cash", "amount": 100},
            ),
            choice_deadline=DUE + timedelta(days=7),
            hold_reason="choice",
        )
    ]
    referral_rewards_sync(referral=ref)
    with time_machine.travel(DUE + timedelta(days=1), tick=False):
        run_all()
        assert Reward.objects.for_tenant(tenant).get().status == "pending"
    with time_machine.travel(DUE + timedelta(days=7, minutes=1), tick=False):
        run_all()
    assert Reward.objects.for_tenant(tenant).get().status == "fulfilled"


def test_donating_instead_credits_the_charity_account(tenant, setup):
    prog, ref = setup
    referral_rewards_sync(referral=ref)
    coupon = _rows(tenant)["paid-coupon"]
    reward_donate_instead(reward=coupon, actor_label="participant:x")
    with time_machine.travel(DUE + timedelta(minutes=1), tick=False):
        run_all()
    assert ledger.balances(tenant.pk, ledger.charity_account(prog.pk)) == {"CNY": 2500}


def test_verify_ledger_detects_an_edited_entry(tenant, setup, capsys):
    _, ref = setup
    referral_rewards_sync(referral=ref)
    with time_machine.travel(DUE + timedelta(minutes=1), tick=False):
        run_all()
    call_command("verify_ledger")
    assert "ok" in capsys.readouterr().out
    LedgerEntry.unscoped.filter(tenant=tenant, points=300).update(points=3000)
    with pytest.raises(SystemExit):
        call_command("verify_ledger")
    assert "hash mismatch" in capsys.readouterr().out


def test_an_item_another_writer_wrote_meanwhile_is_left_out_and_the_rest_written(tenant, setup):
    from rewards.services import grants

    prog, ref = setup
    scope = f"referral:{ref.pk}"
    points = f.decision(ref.referrer, scope, "paid-points", points=300, due_at=DUE)
    coupon = f.decision(
        ref.referrer, scope, "paid-coupon", kind="coupon", amount_minor=2500, due_at=DUE
    )

    def row(d):
        return grants._reward_from_decision(
            tenant.pk, ref, d, False, program_id=prog.pk, version_id=prog.current_version_id
        )

    assert [r.rule_key for r in grants._rewards_write([row(points)])] == ["paid-points"]
    # A writer that read before the first wrote: its batch holds the points again.
    written = grants._rewards_write([row(points), row(coupon)])
    assert [r.rule_key for r in written] == ["paid-coupon"]
    assert Reward.objects.for_tenant(tenant).get(rule_key="paid-coupon").pk == written[0].pk
    assert Reward.objects.for_tenant(tenant).count() == 2
