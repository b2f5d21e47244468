"""Each signal fires on its pattern and stays quiet on a near miss; scoring follows the policy."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fraud import identity
from fraud import signals as s
from fraud.signals import AssessmentFacts, Identity, Policy


def ident(**kw) -> Identity:
    """An identity from clear values, hashed the way the assessment hashes them."""
    out = {}
    if "email" in kw:
        out["email"] = frozenset({identity.email_token(kw["email"])})
        out["email_domain"] = identity.email_domain(kw["email"])
    if "phone" in kw:
        out["phone"] = frozenset({identity.phone_token(kw["phone"])})
    for kind, func in (
        ("device", identity.device_token),
        ("payment", identity.payment_token),
        ("address", identity.address_token),
    ):
        if kind in kw:
            out[kind] = frozenset({func(kw[kind])})
    if "ip" in kw:
        ip, net = identity.ip_tokens(kw["ip"])
        out["ip"], out["ip24"] = frozenset({ip}), frozenset({net})
    if "company_id" in kw:
        out["company_id"] = kw["company_id"]
    if "ua" in kw:
        out["ua_classes"] = tuple(identity.user_agent_class(u) for u in kw["ua"])
    return Identity(**out)


def facts(referrer=None, referee=None, **kw) -> AssessmentFacts:
    referee = referee or Identity()
    domain = referee.email_domain
    kw.setdefault("referee_email_disposable", identity.is_disposable_domain(domain))
    kw.setdefault("referee_domain_is_free_mail", identity.is_free_mail_domain(domain) or not domain)
    return AssessmentFacts(
        stage_key="signup", referrer=referrer or Identity(), referee=referee, **kw
    )


def codes(f: AssessmentFacts) -> set[str]:
    return {sig.code for sig in s.detect(f)}


def test_gmail_dot_and_plus_variants_of_the_referrers_address_are_the_same_email():
    f = facts(ident(email="Jane.Doe@gmail.com"), ident(email="janedoe+promo@googlemail.com"))
    assert codes(f) == {"same_email"}


def test_two_different_gmail_users_are_not_the_same_email_nor_the_same_company():
    f = facts(ident(email="jane.doe@gmail.com"), ident(email="john.roe@gmail.com"))
    assert codes(f) == set()


def test_same_phone_fires_across_formats_and_a_different_number_does_not():
    assert "same_phone" in codes(
        facts(ident(phone="+86 138 0013 8000"), ident(phone="+8613800138000"))
    )
    assert "same_phone" not in codes(
        facts(ident(phone="+8613800138000"), ident(phone="+8613800138001"))
    )


def test_same_device_fires_and_another_device_stays_quiet():
    assert "same_device" in codes(facts(ident(device="dev-1"), ident(device="dev-1")))
    assert "same_device" not in codes(facts(ident(device="dev-1"), ident(device="dev-2")))


def test_same_payment_fingerprint_forces_a_rejection_whatever_the_score():
    f = facts(ident(payment="card-abc"), ident(payment="card-abc"))
    result = s.assess(f, Policy(reject_threshold=100, review_threshold=100))
    assert result.decision == "reject"
    assert "same_payment" not in codes(facts(ident(payment="card-abc"), ident(payment="card-xyz")))


def test_same_address_matches_after_normalisation_but_the_neighbours_flat_does_not():
    f = facts(ident(address="12 Green Street, Apt 3"), ident(address="12 green st apt 3"))
    assert codes(f) == {"same_address"}
    assert (
        codes(
            facts(ident(address="12 Green Street, Apt 3"), ident(address="12 Green Street, Apt 4"))
        )
        == set()
    )


HOME = {"address": "12 Green Street, Apt 3", "ip": "203.0.113.7"}


def _paid(referrer: Identity, referee: Identity) -> AssessmentFacts:
    return AssessmentFacts(stage_key="paid", referrer=referrer, referee=referee)


def test_someone_living_with_the_referrer_with_their_own_device_and_card_is_approved():
    ann = ident(email="ann@gmail.com", device="d-ann", payment="card-ann", **HOME)
    lei = ident(email="lei@qq.com", device="d-lei", payment="card-lei", **HOME)

    for f in (facts(ann, lei), _paid(ann, lei)):
        result = s.assess(f, Policy())
        assert (result.decision, result.score) == ("approve", 0)
        assert [sig["code"] for sig in result.signals] == ["household"]
    # Configurable like any signal: a policy weighing households holds them.
    assert s.assess(_paid(ann, lei), Policy(weights={"household": 30})).decision == "review"


def test_a_housemate_without_a_device_or_card_of_their_own_is_held():
    ann = ident(email="ann@gmail.com", device="d-ann", payment="card-ann", **HOME)
    # Paid, but no payment instrument of their own was ever seen: not independent.
    unpaid = ident(email="lei@qq.com", device="d-lei", **HOME)
    result = s.assess(_paid(ann, unpaid), Policy())
    assert (result.decision, result.score) == ("review", 55)
    assert {sig["code"] for sig in result.signals} == {"same_address", "same_ip"}
    # No device of their own seen, even at sign-up.
    no_device = ident(email="lei@qq.com", **HOME)
    assert codes(facts(ann, no_device)) == {"same_address", "same_ip"}
    # The referrer's card at the referrer's address: the referrer, rejected.
    own_card = ident(email="lei@qq.com", device="d-lei", payment="card-ann", **HOME)
    result = s.assess(_paid(ann, own_card), Policy())
    assert result.decision == "reject"
    assert "household" not in {sig["code"] for sig in result.signals}


def test_a_shared_ip_without_the_address_is_still_the_referrers_own_network():
    ann = ident(email="ann@gmail.com", device="d-ann", payment="card-ann", ip="203.0.113.7")
    zoe = Identity(
        **{
            **ident(
                email="zoe@qq.com", device="d-zoe", payment="card-zoe", ip="203.0.113.7"
            ).__dict__,
            "ip_seen": {next(iter(ann.ip)): 3},
        }
    )
    result = s.assess(_paid(ann, zoe), Policy())
    assert (result.decision, result.score) == ("review", 35)
    assert {sig["code"] for sig in result.signals} == {"same_ip", "referrer_ip"}


def test_same_ip_counts_once_and_a_shared_24_alone_is_a_weaker_signal():
    assert codes(facts(ident(ip="203.0.113.7"), ident(ip="203.0.113.7"))) == {"same_ip"}
    assert codes(facts(ident(ip="203.0.113.7"), ident(ip="203.0.113.99"))) == {"same_ip24"}
    assert codes(facts(ident(ip="203.0.113.7"), ident(ip="198.51.100.7"))) == set()


def test_same_company_domain_sends_to_review_as_possibly_the_same_company():
    f = facts(ident(email="ann@acme-widgets.com"), ident(email="bob@acme-widgets.com"))
    result = s.assess(f, Policy())
    assert [x["code"] for x in result.signals] == ["same_domain"]
    assert result.decision == "review"
    assert "acme-widgets.com" in result.signals[0]["reason"]


def test_two_people_at_the_same_large_email_provider_are_not_same_company():
    for domain in ("gmail.com", "qq.com", "outlook.com", "163.com"):
        assert codes(facts(ident(email=f"ann@{domain}"), ident(email=f"bob@{domain}"))) == set()


def test_same_company_id_is_not_a_new_customer_and_is_rejected():
    f = facts(ident(company_id="C-1"), ident(company_id="C-1"))
    assert s.assess(f, Policy()).decision == "reject"
    assert codes(facts(ident(company_id="C-1"), ident(company_id="C-2"))) == set()
    assert codes(facts(ident(company_id=""), ident(company_id=""))) == set()


def test_disposable_domain_from_the_maintained_list_fires_and_a_normal_domain_does_not():
    assert "disposable_email" in codes(facts(referee=ident(email="x@mailinator.com")))
    assert "disposable_email" in codes(facts(referee=ident(email="x@sub.mailinator.com")))
    assert "disposable_email" not in codes(facts(referee=ident(email="x@gmail.com")))


def test_velocity_fires_at_three_referees_sharing_one_ip_and_not_at_two():
    assert "velocity" in codes(facts(velocity={"ip": 2, "device": 0}))
    assert "velocity" not in codes(facts(velocity={"ip": 1, "device": 1, "address": 1}))


def test_a_burst_is_measured_against_the_referrers_own_history():
    assert "burst" in codes(facts(signups_last_hour=6, signups_per_active_hour=1.0))
    # A referrer who usually brings four an hour is not bursting at six.
    assert "burst" not in codes(facts(signups_last_hour=6, signups_per_active_hour=4.0))
    assert "burst" not in codes(facts(signups_last_hour=4, signups_per_active_hour=0.0))


def test_implausibly_fast_signup_and_purchase_fire_and_normal_speeds_do_not():
    assert {"fast_signup", "fast_purchase"} <= codes(
        facts(click_to_signup_seconds=3, signup_to_purchase_seconds=5)
    )
    assert codes(facts(click_to_signup_seconds=95, signup_to_purchase_seconds=600)) == set()


def test_headless_and_preview_agents_fire_and_a_real_browser_after_a_preview_does_not():
    assert "headless_agent" in codes(facts(referee=ident(ua=["Mozilla/5.0 HeadlessChrome/120.0"])))
    assert "preview_agent" in codes(facts(referee=ident(ua=["facebookexternalhit/1.1"])))
    # Chat apps unfurl the link before the friend opens it: that is normal.
    both = ident(ua=["WhatsApp/2.23", "Mozilla/5.0 (iPhone) Safari/604.1"])
    assert codes(facts(referee=both)) == set()


def test_refund_anomaly_needs_a_rate_far_above_the_programs_average():
    assert "refund_anomaly" in codes(
        facts(referrer_purchases=5, referrer_refunds=3, program_refund_rate=0.05)
    )
    assert "refund_anomaly" not in codes(
        facts(referrer_purchases=5, referrer_refunds=3, program_refund_rate=0.5)
    )
    assert "refund_anomaly" not in codes(
        facts(referrer_purchases=1, referrer_refunds=1, program_refund_rate=0.0)
    )


def test_refund_anomaly_needs_a_sample_of_five_purchases():
    # Two friends of three refunding is bad luck, not a rate: approved.
    few = facts(referrer_purchases=3, referrer_refunds=2, program_refund_rate=0.07)
    assert s.assess(few, Policy()).decision == "approve"
    four = facts(referrer_purchases=4, referrer_refunds=4, program_refund_rate=0.07)
    assert codes(four) == set()
    # Five purchases, three refunded: a rate, held for a person.
    enough = facts(referrer_purchases=5, referrer_refunds=3, program_refund_rate=0.07)
    result = s.assess(enough, Policy())
    assert (result.decision, result.score) == ("review", 35)
    assert [sig["params"] for sig in result.signals] == [{"pct": 60, "avg": 7}]


def test_refund_shortly_after_the_reward_stage_fires_but_not_months_later():
    assert "refund_after_reward" in codes(facts(refund_after_reward_days=2))
    assert "refund_after_reward" not in codes(facts(refund_after_reward_days=60))


def test_blocklist_hit_rejects_and_ring_link_reviews():
    assert s.assess(facts(blocklisted=("device",)), Policy()).decision == "reject"
    ring = s.assess(facts(ring_kinds=("payment",)), Policy())
    assert (ring.decision, ring.score) == ("review", 60)
    assert codes(facts()) == set()


def test_leaked_code_fires_only_for_a_flagged_code():
    assert "leaked_code" in codes(facts(code_leaked=True))
    assert "leaked_code" not in codes(facts(code_leaked=False))


def test_decision_follows_thresholds_and_weight_overrides():
    signals = [
        {"code": "same_ip", "weight": 25, "reason": "", "forces": ""},
        {"code": "fast_signup", "weight": 20, "reason": "", "forces": ""},
    ]
    assert s.score(signals, Policy()).decision == "review"  # 45 ≥ 30
    assert s.score(signals, Policy(review_threshold=50, reject_threshold=80)).decision == "approve"
    heavy = Policy(weights={"same_ip": 60})
    result = s.score(signals, heavy)
    assert (result.score, result.decision) == (80, "reject")


def test_a_policy_can_switch_off_the_forced_review_of_same_domain():
    f = facts(ident(email="ann@acme-widgets.com"), ident(email="bob@acme-widgets.com"))
    assert s.assess(f, Policy(forces={"same_domain": ""})).decision == "review"  # 35 ≥ 30 still
    assert (
        s.assess(f, Policy(forces={"same_domain": ""}, weights={"same_domain": 10})).decision
        == "approve"
    )


SIGNAL = st.fixed_dictionaries(
    {
        "code": st.sampled_from(s.SIGNAL_CODES),
        "weight": st.integers(0, 100),
        "reason": st.just(""),
        "forces": st.sampled_from(["", "review", "reject"]),
    }
)


@given(st.lists(SIGNAL, max_size=8), st.integers(0, 100), st.integers(0, 100))
def test_score_is_bounded_deterministic_and_never_softer_than_a_forced_decision(signals, a, b):
    policy = Policy(review_threshold=min(a, b), reject_threshold=max(a, b))
    result = s.score(signals, policy)
    assert 0 <= result.score <= 100
    assert result == s.score(signals, policy)
    forced = {x["forces"] for x in signals}
    if "reject" in forced:
        assert result.decision == "reject"
    elif "review" in forced:
        assert result.decision in ("review", "reject")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Jane.Doe+x@GMAIL.com", "janedoe@gmail.com"),
        ("a.b@example.com", "a.b@example.com"),
        ("nope", ""),
    ],
)
def test_email_normalisation(raw, expected):
    assert identity.normalise_email(raw) == expected


def test_a_card_used_by_another_referred_customer_fires_payment_reuse_and_an_unshared_one_does_not():
    assert "payment_reuse" in codes(facts(payment_shared_with=2))
    assert "payment_reuse" not in codes(facts(payment_shared_with=0))


def test_a_stored_reason_is_rendered_again_from_its_code_and_parameters():
    stored = s.Signal(
        "same_domain", 35, s.REASONS["same_domain"], params={"domain": "acme.io"}
    ).as_dict()
    assert stored["reason"] == "Possibly the same company: both use the email domain acme.io."
    assert (
        s.reason_text({**stored, "reason": "stale"})
        == "Possibly the same company: both use the email domain acme.io."
    )
    assert s.reason_text({"code": "unknown", "reason": "kept as stored"}) == "kept as stored"


def test_every_signal_has_a_label_for_the_pages():
    assert set(s.LABELS) == set(s.SIGNAL_CODES)
    assert s.signal_label("same_email") == "Same email"
    assert s.signal_label("retired_signal") == "retired_signal"
