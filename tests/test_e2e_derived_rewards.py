"""Derived items rest on cleared referrals (SEMANTICS §10 "Derived items"), end to end: the
events API → tracking → fraud → rewards, ops' review decisions, refunds and `tick`.

A tier, a season prize or ambassador status counts only referrals that cleared fraud review
and their holds; a counted referral rejected or reversed later reverses the item inside its
hold, or claws it back within `clawback_days`, once."""

from datetime import timedelta

import time_machine
from django.test import Client

from pipeline.flow import review_decide
from programs.services import program_create
from rewards.models import LedgerEntry, Payout, Reward, RewardBasis
from rewards.services import rewards_reject
from tests.scenario import event, local, participant, tick
from tracking.models import Referral

TIER_MINOR = 30000


def derived_spec(*, clawback_days: int = 0, tier_threshold: int = 5, ambassador=None) -> dict:
    """¥20 per first order kept 7 days; ¥300 once `tier_threshold` such successes fall in a
    month; ambassador status when the program says so."""
    spec = {
        "spec_version": 1,
        "slug": "friends",
        "name": "Bring a friend",
        "status": "active",
        "starts_at": "2026-01-01T00:00:00+08:00",
        "currency": "CNY",
        "clawback_days": clawback_days,
        "attribution": {"window_days": 30, "model": "last"},
        "stages": [
            {
                "key": "paid",
                "label": "First order kept 7 days",
                "status": "converted",
                "success": True,
                "condition": {"event": "purchase", "min_amount": 9900},
                "hold": {"days": 7},
                "rewards": [
                    {"key": "per_success", "kind": "cash", "amount": 2000, "side": "referrer"}
                ],
            }
        ],
        "tiers": [
            {
                "key": "five",
                "threshold": tier_threshold,
                "period": "month",
                "rewards": [
                    {"key": "five_bonus", "kind": "cash", "amount": TIER_MINOR, "side": "referrer"}
                ],
            }
        ],
    }
    if ambassador:
        spec["ambassador"] = ambassador
    return spec


def referrer_code(tenant, api, spec, who="boss", email="boss@acme-widgets.com") -> str:
    """Create the program, and `who` enrolled in it; answers with the referral code."""
    program_create(tenant=tenant, spec=spec, actor=None)
    participant(api, who, email=email)
    answer = api.post(
        f"/api/v1/programs/{spec['slug']}/enrollments", {"participant": who}, format="json"
    )
    assert answer.status_code == 201, answer.content
    return answer.json()["code"]


def friend(api, code, name, at, *, colleague=False, amount=12900):
    """A referee who signs up two days before ordering at `at`. A colleague shares the
    referrer's company mail domain: fraud holds the referral for review ("possibly same
    company")."""
    email = f"{name}@acme-widgets.com" if colleague else f"{name}@{name}-family.cn"
    event(
        api,
        f"{name}-signup",
        "signup",
        name,
        at - timedelta(days=2, hours=3 * (ord(name[0]) - ord("a"))),
        referral={"code": code},
        participant={"external_id": name, "email": email},
    )
    event(
        api,
        f"{name}-order",
        "purchase",
        name,
        at,
        order_id=f"order-{name}",
        amount={"amount_minor": amount, "currency": "CNY"},
        participant={"external_id": name, "email": email},
    )


def refund(api, name, at, amount=12900):
    event(
        api,
        f"{name}-refund",
        "refund",
        name,
        at,
        order_id=f"order-{name}",
        amount={"amount_minor": amount, "currency": "CNY"},
    )


def statuses(tenant) -> dict:
    return dict(Referral.objects.for_tenant(tenant).values_list("referee__external_id", "status"))


def tier_items(tenant) -> list[Reward]:
    return list(Reward.objects.for_tenant(tenant).filter(reason="tier:five_bonus"))


def basis_of(reward) -> set[str]:
    return set(
        RewardBasis.objects.for_tenant(reward.tenant_id)
        .filter(reward=reward)
        .values_list("referral__referee__external_id", flat=True)
    )


def decide(tenant, actor, names, decision):
    for name in names:
        referral = Referral.objects.for_tenant(tenant).get(referee__external_id=name)
        review_decide(referral=referral, decision=decision, actor=actor, note="checked the office")


def later_fraud_rejection(tenant, name):
    """What fraud's service does when a later stage's check rejects the referral."""
    referral = Referral.objects.for_tenant(tenant).get(referee__external_id=name)
    Referral.objects.for_tenant(tenant).filter(pk=referral.pk).update(status="rejected")
    rewards_reject(referral=referral, reason="fraud")


def three_successes_reach_the_tier(tenant, api, *, clawback_days):
    code = referrer_code(tenant, api, derived_spec(clawback_days=clawback_days, tier_threshold=3))
    ordered = local(3, 2)
    with time_machine.travel(ordered, tick=False):
        for name in ("ann", "bob", "cat"):
            friend(api, code, name, ordered)
        tick()
    tick(ordered + timedelta(days=8))
    [tier] = tier_items(tenant)
    return ordered, tier


def test_a_tier_waits_for_referrals_in_review_and_is_never_paid_on_rejected_ones(tenant, api, ops):
    code = referrer_code(tenant, api, derived_spec())
    ordered = local(3, 2)
    with time_machine.travel(ordered, tick=False):
        friend(api, code, "ann", ordered)
        for name in ("cai", "dan", "eve", "fay"):
            friend(api, code, name, ordered, colleague=True)
        tick()
    assert statuses(tenant) == {
        "ann": "converted",
        "cai": "review",
        "dan": "review",
        "eve": "review",
        "fay": "review",
    }
    # Every hold has passed: one referral cleared, four wait for ops. No ¥300 tier.
    tick(ordered + timedelta(days=8))
    assert tier_items(tenant) == []

    with time_machine.travel(ordered + timedelta(days=9), tick=False):
        decide(tenant, ops, ["cai", "dan", "eve", "fay"], "reject")
    tick(ordered + timedelta(days=9))
    tick(ordered + timedelta(days=40))
    assert tier_items(tenant) == []
    assert statuses(tenant)["cai"] == "rejected"


def test_a_tier_counts_referrals_once_ops_clears_them_and_rests_on_them(tenant, api, ops):
    code = referrer_code(tenant, api, derived_spec())
    ordered = local(3, 2)
    with time_machine.travel(ordered, tick=False):
        friend(api, code, "ann", ordered)
        for name in ("cai", "dan", "eve", "fay"):
            friend(api, code, name, ordered, colleague=True)
        tick()
    tick(ordered + timedelta(days=8))
    assert tier_items(tenant) == []
    with time_machine.travel(ordered + timedelta(days=9), tick=False):
        decide(tenant, ops, ["cai", "dan", "eve", "fay"], "approve")
    tick(ordered + timedelta(days=9))
    [tier] = tier_items(tenant)
    assert (tier.scope, tier.amount_minor, tier.status) == (
        "period:2026-03",
        TIER_MINOR,
        "approved",
    )
    assert basis_of(tier) == {"ann", "cai", "dan", "eve", "fay"}
    assert set(
        RewardBasis.objects.for_tenant(tenant)
        .filter(reward=tier)
        .values_list("stage_key", flat=True)
    ) == {"paid"}


def test_a_counted_referral_rejected_later_claws_the_tier_back_once_within_clawback_days(
    tenant, api
):
    ordered, tier = three_successes_reach_the_tier(tenant, api, clawback_days=30)
    payout = Payout.objects.for_tenant(tenant).get(reward=tier)
    with time_machine.travel(ordered + timedelta(days=9), tick=False):
        assert api.post(f"/api/v1/payouts/{payout.pk}/paid", {}, format="json").status_code == 200
    tier.refresh_from_db()
    assert tier.status == "fulfilled"

    # A later stage's fraud check rejects two counted referrals (as fraud's service does).
    with time_machine.travel(ordered + timedelta(days=12), tick=False):
        for name in ("ann", "bob"):
            later_fraud_rejection(tenant, name)
    tier.refresh_from_db()
    assert (tier.status, tier.reversed_amount_minor) == ("reversed", TIER_MINOR)
    entries = LedgerEntry.objects.for_tenant(tenant).filter(reward=tier)
    assert sorted((e.entry_kind, e.amount_minor) for e in entries) == [
        ("clawback", -TIER_MINOR),
        ("credit", TIER_MINOR),
    ]
    # Later sweeps never pay the period's tier again on what is left.
    tick(ordered + timedelta(days=20))
    assert [t.status for t in tier_items(tenant)] == ["reversed"]


def test_a_late_rejection_drops_a_tier_not_paid_yet(tenant, api):
    """After its hold a paid tier is clawed back only within `clawback_days` (none here):
    kept. One not paid yet is lost with the rejected referral, as unreleased earnings are."""
    ordered, tier = three_successes_reach_the_tier(tenant, api, clawback_days=0)
    with time_machine.travel(ordered + timedelta(days=12), tick=False):
        later_fraud_rejection(tenant, "ann")
    tier.refresh_from_db()
    assert (tier.status, tier.hold_reason) == ("reversed", "")
    payout = Payout.objects.for_tenant(tenant).get(reward=tier)
    assert payout.status == "cancelled"


def test_without_clawback_days_a_late_rejection_keeps_a_paid_tier(tenant, api):
    ordered, tier = three_successes_reach_the_tier(tenant, api, clawback_days=0)
    payout = Payout.objects.for_tenant(tenant).get(reward=tier)
    with time_machine.travel(ordered + timedelta(days=9), tick=False):
        assert api.post(f"/api/v1/payouts/{payout.pk}/paid", {}, format="json").status_code == 200
    with time_machine.travel(ordered + timedelta(days=12), tick=False):
        later_fraud_rejection(tenant, "ann")
    tier.refresh_from_db()
    assert tier.status == "fulfilled"
    assert (
        not LedgerEntry.objects.for_tenant(tenant)
        .filter(reward=tier, entry_kind__in=["clawback", "reversal"])
        .exists()
    )


def test_a_refund_inside_the_hold_of_a_counted_success_reverses_the_tier(tenant, api):
    """A tier reached by successes whose holds end on different days: a refund after bob's
    hold keeps his success (no clawback days) and the tier; ann's refund, reported late but
    dated inside her hold, undoes the stage the tier counted: the tier is reversed."""
    code = referrer_code(tenant, api, derived_spec(clawback_days=0, tier_threshold=2))
    first, second = local(3, 2), local(3, 3)
    with time_machine.travel(second, tick=False):
        friend(api, code, "ann", first)
        friend(api, code, "bob", second)
        tick()
    tick(second + timedelta(days=8))
    [tier] = tier_items(tenant)
    assert (basis_of(tier), tier.status) == ({"ann", "bob"}, "approved")
    with time_machine.travel(second + timedelta(days=9), tick=False):
        refund(api, "bob", second + timedelta(days=9))
        tick()
    tier.refresh_from_db()
    assert tier.status == "approved"
    with time_machine.travel(second + timedelta(days=9, hours=1), tick=False):
        refund(api, "ann", first + timedelta(days=6))
        tick()
    tier.refresh_from_db()
    assert tier.status == "reversed"
    assert not Payout.objects.for_tenant(tenant).filter(reward=tier, status="requested").exists()
    [bobs] = Reward.objects.for_tenant(tenant).filter(referral__referee__external_id="bob")
    assert bobs.status == "approved"


def test_ambassador_status_counts_cleared_referrals_and_is_revoked_by_a_rejection(
    tenant, api, ops, owner
):
    from referral_platform.webhooks.models import WebhookEndpoint, WebhookMessage

    WebhookEndpoint.unscoped.create(
        tenant=tenant, url="https://hooks.example.com/in", secret="whsec_test", events=[]
    )
    spec = derived_spec(
        clawback_days=365,
        tier_threshold=50,
        ambassador={"min_referrals": 3, "min_retained_percent": 50},
    )
    code = referrer_code(tenant, api, spec)
    ordered = local(3, 2)
    with time_machine.travel(ordered, tick=False):
        friend(api, code, "ann", ordered)
        friend(api, code, "bob", ordered)
        friend(api, code, "cai", ordered, colleague=True)
        tick()
    # Two of them active from day 60 on (retained); cai waits for review.
    active = ordered + timedelta(days=61)
    with time_machine.travel(active, tick=False):
        for name in ("ann", "bob"):
            event(api, f"{name}-active", "activity", name, active, properties={"kind": "login"})
        tick()
    assert not Reward.objects.for_tenant(tenant).filter(details__status="ambassador").exists()
    with time_machine.travel(active + timedelta(hours=1), tick=False):
        decide(tenant, ops, ["cai"], "approve")
    tick(active + timedelta(hours=1))
    [status] = Reward.objects.for_tenant(tenant).filter(details__status="ambassador")
    assert (status.reason, status.scope, status.kind, status.status) == (
        "bonus:ambassador",
        "period:lifetime",
        "perk",
        "fulfilled",
    )
    assert basis_of(status) == {"ann", "bob", "cai"}
    granted = WebhookMessage.objects.for_tenant(tenant).filter(type="ambassador.granted")
    assert [m.data["reward"]["id"] for m in granted] == [status.pk]
    assert badges(api, owner) == (1, True)

    with time_machine.travel(active + timedelta(days=2), tick=False):
        later_fraud_rejection(tenant, "bob")
        later_fraud_rejection(tenant, "bob")  # once
    status.refresh_from_db()
    assert status.status == "reversed"
    revoked = WebhookMessage.objects.for_tenant(tenant).filter(type="ambassador.revoked")
    assert revoked.count() == 1
    assert badges(api, owner) == (0, False)


def badges(api, staff_user) -> tuple[int, bool]:
    """Ambassador badges on the staff reward list (one per row of the referrer), and whether
    the referrer's portal shows one."""
    staff = Client()
    staff.force_login(staff_user)
    listed = staff.get("/app/rewards/?participant=boss").content.decode()
    session = api.post("/api/v1/portal-sessions", {"participant": "boss"}, format="json")
    portal = Client().get(session.json()["url"], follow=True).content.decode()
    rows = listed.count('data-testid="ambassador-badge"')
    return (1 if rows else 0), 'data-testid="ambassador-badge"' in portal


def test_a_season_closes_only_once_its_referrals_in_review_are_decided(tenant, api, ops):
    """The season's ranking waits while one of its referrals is in review; once ops
    rejects it, the season closes without it and the prize rests on what it counted."""
    from rewards.models import PeriodClose

    spec = derived_spec(tier_threshold=50)
    spec["season"] = {
        "period": "quarter",
        "metric": "success",
        "min_successes": 2,
        "prizes": [
            {
                "rank": 1,
                "reward": {"key": "first", "kind": "cash", "side": "referrer", "amount": 50000},
            }
        ],
    }
    code = referrer_code(tenant, api, spec)
    ordered = local(3, 2)
    with time_machine.travel(ordered, tick=False):
        friend(api, code, "ann", ordered)
        friend(api, code, "bob", ordered)
        friend(api, code, "cai", ordered, colleague=True)
        tick()
    assert statuses(tenant)["cai"] == "review"
    tick(local(4, 1, 9))
    assert not PeriodClose.objects.for_tenant(tenant).exists()
    with time_machine.travel(local(4, 2), tick=False):
        decide(tenant, ops, ["cai"], "reject")
    tick(local(4, 2))
    [close] = PeriodClose.objects.for_tenant(tenant).filter(period_key="2026-Q1")
    [prize] = Reward.objects.for_tenant(tenant).filter(reason="season:1")
    assert (prize.scope, prize.amount_minor) == ("period:2026-Q1", 50000)
    assert basis_of(prize) == {"ann", "bob"}
    assert close.result == [{"participant": prize.participant_id, "reason": "season:1"}]
