"""The portal's pure rules: what the customer reads, decided without I/O."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portal import rules
from programs.templates_data.green_home import green_home_spec
from programs.templates_data.saas_b2b import saas_b2b_spec
from referral_platform.core import calendar

SHANGHAI = calendar.TenantCalendar.from_lists("Asia/Shanghai")
MON = datetime(2026, 4, 6, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai


def _bd(when, n):
    return calendar.add_business_days(when, n, SHANGHAI)


def _days(when, n):
    return calendar.due_at(when, SHANGHAI, days=n)


@pytest.mark.parametrize(
    ("participant", "tenant", "expected"),
    [
        ("zh-CN", "en", "zh-hans"),
        ("zh_Hans", "en", "zh-hans"),
        ("zh", "en", "zh-hans"),
        ("zh-TW", "en", "en"),
        ("zh-Hant", "zh-hans", "en"),
        ("", "zh-hans", "zh-hans"),
        ("de", "zh-hans", "en"),
        ("", "", "en"),
    ],
)
def test_the_portal_language_follows_the_customer_then_the_tenant(participant, tenant, expected):
    assert rules.portal_language(participant, tenant) == expected


def test_referee_identities_are_masked():
    assert rules.mask_identity(email="lena.w@gmail.com") == "l***@gmail.com"
    assert rules.mask_identity(phone="+8613900139000") == "+86****9000"
    assert rules.mask_identity(name="王小明") == "王***"
    assert rules.mask_identity() == ""


@given(st.emails())
def test_a_masked_email_never_shows_more_than_its_first_letter_and_domain(email):
    masked = rules.mask_identity(email=email)
    local, _, domain = email.partition("@")
    assert masked == f"{local[:1]}***@{domain}"


def test_the_offer_reads_as_one_sentence_per_side():
    sentences = rules.offer_sentences(green_home_spec(2026))
    assert sentences["friend"] == "Your friend gets ¥20 off orders ≥ ¥99 and Free shipping coupon."
    assert sentences["you"] == (
        "You get ¥25 coupon (orders ≥ ¥129) or 250 green miles, Lottery ticket and 300 green "
        "miles for each successful referral."
    )


def test_rewards_before_the_success_stage_are_named_as_along_the_way():
    spec = {
        "stages": [
            {"key": "mql", "status": "qualified", "rewards": [
                {"key": "a", "side": "referrer", "kind": "cash", "description": "¥50"}]},
            {"key": "paid", "status": "converted", "success": True, "rewards": [
                {"key": "b", "side": "referrer", "kind": "cash", "description": "¥150"},
                {"key": "c", "side": "referee", "kind": "coupon", "description": "10% off"}]},
        ]
    }  # fmt: skip
    assert rules.offer_sentences(spec) == {
        "friend": "Your friend gets 10% off.",
        "you": "You get ¥50 along the way, then ¥150 for each successful referral.",
    }


def test_share_links_carry_the_message_and_the_channel_source():
    url = rules.channel_url("https://x.test/r/ABC", "whatsapp")
    assert url == "https://x.test/r/ABC?s=whatsapp"
    assert rules.share_link("whatsapp", url=url, message="Hi & bye") == (
        "https://wa.me/?text=Hi%20%26%20bye%20https%3A%2F%2Fx.test%2Fr%2FABC%3Fs%3Dwhatsapp"
    )
    assert rules.share_link("sms", url="u", message="m") == "sms:?&body=m%20u"
    assert (
        rules.share_link("email", url="u", message="m", subject="S")
        == "mailto:?subject=S&body=m%20u"
    )
    assert rules.share_link("x", url="u", message="m") == "https://x.com/intent/post?text=m&url=u"
    assert rules.share_link("wechat", url="u", message="m") == ""


def test_the_share_message_prefers_the_channel_copy_then_the_offer():
    spec = green_home_spec(2026)
    assert (
        rules.share_message(spec, "whatsapp", program_name="G")
        == "¥20 off your first green-home order with my link."
    )
    assert rules.share_message(spec, "sms", program_name="G") == spec["offer"]["headline"]
    assert rules.share_message({}, "sms", program_name="Green miles") == "Join me on Green miles."


def test_a_lead_waiting_for_qualification_expects_it_within_two_business_days():
    spec = saas_b2b_spec(2026)
    friday = datetime(2026, 4, 10, 2, 0, tzinfo=UTC)
    timeline = rules.referral_timeline(
        spec=spec, clicked_at=friday - timedelta(hours=1), signed_up_at=friday, stages=[],
        status="pending", add_business_days=_bd, add_days=_days,
    )  # fmt: skip
    assert [(s.step, s.state) for s in timeline.steps] == [
        ("clicked", "done"),
        ("signed_up", "done"),
        ("qualified", "next"),
        ("paid", "todo"),
        ("retained", "todo"),
    ]
    # Friday + 2 business days is Tuesday, the same local time.
    assert (timeline.next_step, timeline.next_at, timeline.next_at_kind) == (
        "qualified",
        datetime(2026, 4, 14, 2, 0, tzinfo=UTC),
        "expected",
    )


def test_a_step_reversed_inside_its_hold_is_not_reached():
    spec = green_home_spec(2026)
    paid = rules.StageFact("first_order", "converted", MON, reversed_at=MON + timedelta(days=2))
    timeline = rules.referral_timeline(
        spec=spec, clicked_at=None, signed_up_at=MON, stages=[paid], status="pending",
        add_business_days=_bd, add_days=_days,
    )  # fmt: skip
    assert [(s.step, s.state) for s in timeline.steps] == [
        ("clicked", "skipped"),
        ("signed_up", "done"),
        ("paid", "next"),
    ]
    assert timeline.next_at is None


def test_a_rejected_referral_has_no_next_step():
    timeline = rules.referral_timeline(
        spec=green_home_spec(2026), clicked_at=None, signed_up_at=MON, stages=[],
        status="rejected", add_business_days=_bd, add_days=_days,
    )  # fmt: skip
    assert timeline.next_step == ""
    assert [s.state for s in timeline.steps] == ["skipped", "done", "todo"]


def test_tier_progress_names_the_next_tier_and_the_distance():
    tiers = green_home_spec(2026)["tiers"]
    assert rules.tier_progress(tiers, 0).remaining == 3
    p = rules.tier_progress(tiers, 4)
    assert (p.next_threshold, p.remaining, len(p.reached_labels)) == (5, 1, 1)
    assert p.next_label.startswith("Eco cutlery blind bag")
    top = rules.tier_progress(tiers, 7)
    assert (top.next_label, top.remaining, len(top.reached_labels)) == ("", 0, 2)
    assert rules.tier_progress([], 3) is None


def test_rank_counts_only_those_strictly_ahead():
    counts = {1: 5, 2: 3, 3: 3, 4: 1}
    assert [rules.rank_of(counts, p) for p in (1, 2, 3, 4, 5)] == [1, 2, 2, 4, None]


def test_balances_add_up_without_counting_reversed_or_capped_items():
    facts = [
        rules.RewardFact(1, "cash", "pending", 5000, "CNY", None),
        rules.RewardFact(2, "cash", "approved", 15000, "CNY", None),
        rules.RewardFact(3, "cash", "fulfilled", 10000, "CNY", None, reversed_amount_minor=2500),
        rules.RewardFact(4, "cash", "reversed", 9900, "CNY", None),
        rules.RewardFact(5, "points", "pending", None, "", 250),
        rules.RewardFact(6, "points", "capped", None, "", 100),
        rules.RewardFact(7, "donation", "fulfilled", 5000, "CNY", None),
        rules.RewardFact(8, "donation", "reversed", 5000, "CNY", None),
    ]
    b = rules.balances(facts, ledger_points=300, currency="CNY")
    assert b == rules.Balances(
        points=300, points_pending=250, cash_pending="¥200", cash_paid="¥75", charity="¥50"
    )
