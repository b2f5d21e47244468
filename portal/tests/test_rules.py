"""The portal's pure rules: what the customer reads, decided without I/O."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st

from portal import rules
from programs.engine import ParticipantFact, ReferralFacts, expected_dates
from programs.templates_data.green_home import green_home_spec
from programs.templates_data.saas_b2b import saas_b2b_spec
from programs.templates_data.study_together import study_together_spec
from referral_platform.core import calendar

SHANGHAI = calendar.TenantCalendar.from_lists("Asia/Shanghai")
MON = datetime(2026, 4, 6, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai


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
    assert sentences["friend"] == (
        "Your friend gets ¥20 off orders ≥ ¥99 and Free shipping coupon. "
        "For friends who meet: Never ordered before."
    )
    assert sentences["you"] == (
        "You get ¥25 coupon (orders ≥ ¥129) or 250 green miles, 1 lottery ticket and 300 green "
        "miles for each successful referral."
    )


def test_an_item_named_for_its_occasion_shows_its_value_first():
    """ "Qualified lead" names when ¥50 is paid, not what: the amount comes first."""
    sentences = rules.offer_sentences(saas_b2b_spec(2026), referrer={"nps": 5, "segments": []})
    assert sentences["you"] == (
        "You get ¥50 cash (Qualified lead) and ¥100 cash or ¥100 product voucher along the way, "
        "then ¥150 cash (First annual payment) for each successful referral."
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
    assert rules.share_message(spec, "sms", program_name="G") == spec["offer"]["headline"]["en"]
    assert rules.share_message({}, "sms", program_name="Green miles") == "Join me on Green miles."
    # In the active language: the program's own Chinese copy.
    with translation.override("zh-hans"):
        assert (
            rules.share_message(spec, "whatsapp", program_name="G")
            == "通过我的链接，首单立减 ¥20。"
        )
        assert (
            rules.share_message(spec, "sms", program_name="G") == "首单满 ¥99 减 ¥20，再送免运费券"
        )


def _expected(spec, signed_up_at):
    facts = ReferralFacts(
        referral_id=1,
        created_at=signed_up_at,
        referrer=ParticipantFact(1),
        referee=ParticipantFact(2),
    )
    return expected_dates(spec, facts, SHANGHAI)


def test_a_lead_waiting_for_qualification_expects_it_when_the_engine_does():
    spec = saas_b2b_spec(2026)
    friday = datetime(2026, 4, 10, 2, 0, tzinfo=UTC)
    timeline = rules.referral_timeline(
        spec=spec, clicked_at=friday - timedelta(hours=1), signed_up_at=friday, stages=[],
        status="pending", expected=_expected(spec, friday), now=friday + timedelta(hours=2),
    )  # fmt: skip
    assert [(s.step, s.state) for s in timeline.steps] == [
        ("clicked", "done"),
        ("signed_up", "done"),
        ("qualified", "next"),
        ("paid", "todo"),
        ("retained", "todo"),
    ]
    # Friday + 2 business days is Tuesday, the same local time.
    assert (timeline.next_step, timeline.next_at, timeline.waiting) == (
        "qualified",
        datetime(2026, 4, 14, 2, 0, tzinfo=UTC),
        "",
    )


def test_a_date_already_past_is_never_shown_as_expected():
    spec = saas_b2b_spec(2026)
    friday = datetime(2026, 4, 10, 2, 0, tzinfo=UTC)
    timeline = rules.referral_timeline(
        spec=spec, clicked_at=None, signed_up_at=friday, stages=[], status="pending",
        expected=_expected(spec, friday), now=datetime(2026, 4, 20, tzinfo=UTC),
    )  # fmt: skip
    assert timeline.next_step == "qualified" and timeline.next_at is None
    assert timeline.waiting == (
        "Waiting for your friend to become a qualified lead within 30 days of signing up."
    )


def test_the_waiting_step_names_what_the_referee_still_has_to_do():
    paid = next(s for s in saas_b2b_spec(2026)["stages"] if s["key"] == "paid")
    assert rules.waiting_text(paid, currency="CNY") == (
        "Waiting for your friend to pay at least ¥1,680 within 60 days of signing up."
    )
    trial = next(s for s in study_together_spec(2026)["stages"] if s["key"] == "trial")
    assert rules.waiting_text(trial, currency="CNY") == (
        "Waiting for your friend to attend 2 trial lessons."
    )


def test_steps_appear_in_the_order_they_happened():
    spec = saas_b2b_spec(2026)
    paid = rules.StageFact("paid", "converted", MON + timedelta(days=1))
    qualified = rules.StageFact("qualified", "qualified", MON + timedelta(days=3))
    timeline = rules.referral_timeline(
        spec=spec, clicked_at=None, signed_up_at=MON, stages=[qualified, paid], status="converted",
        expected=_expected(spec, MON), now=MON + timedelta(days=4),
    )  # fmt: skip
    assert [(s.step, s.state) for s in timeline.steps] == [
        ("clicked", "skipped"),
        ("signed_up", "done"),
        ("paid", "done"),
        ("qualified", "done"),
        ("retained", "next"),
    ]


def test_a_friend_who_paid_before_qualifying_waits_to_be_retained_not_to_qualify():
    spec = saas_b2b_spec(2026)
    paid = rules.StageFact("paid", "converted", MON + timedelta(days=1))
    timeline = rules.referral_timeline(
        spec=spec, clicked_at=None, signed_up_at=MON, stages=[paid], status="converted",
        expected=_expected(spec, MON), now=MON + timedelta(days=2),
    )  # fmt: skip
    assert [(s.step, s.state) for s in timeline.steps] == [
        ("clicked", "skipped"),
        ("signed_up", "done"),
        ("paid", "done"),
        ("qualified", "todo"),
        ("retained", "next"),
    ]
    assert timeline.next_step == "retained"


def test_a_step_reversed_inside_its_hold_is_not_reached():
    spec = green_home_spec(2026)
    paid = rules.StageFact("first_order", "converted", MON, reversed_at=MON + timedelta(days=2))
    timeline = rules.referral_timeline(
        spec=spec, clicked_at=None, signed_up_at=MON, stages=[paid], status="pending",
        expected=_expected(spec, MON), now=MON + timedelta(days=3),
    )  # fmt: skip
    assert [(s.step, s.state) for s in timeline.steps] == [
        ("clicked", "skipped"),
        ("signed_up", "done"),
        ("paid", "next"),
    ]
    assert timeline.next_at is None
    assert timeline.waiting == "Waiting for your friend to pay at least ¥99."


def test_a_rejected_referral_has_no_next_step():
    spec = green_home_spec(2026)
    timeline = rules.referral_timeline(
        spec=spec, clicked_at=None, signed_up_at=MON, stages=[], status="rejected",
        expected=_expected(spec, MON), now=MON,
    )  # fmt: skip
    assert timeline.next_step == ""
    assert [s.state for s in timeline.steps] == ["skipped", "done", "todo"]


def test_a_reward_reads_as_its_amount_not_its_label():
    # A boosted ¥100 whose rule says "¥50 cash".
    value = rules.reward_value_text(
        kind="cash", amount_minor=10000, currency="CNY", points=None, description="¥50 cash"
    )
    assert value == "¥100 cash"
    assert rules.reward_label(value=value, description="¥50 cash") == "¥50 cash"
    coupon = rules.reward_value_text(
        kind="coupon", amount_minor=None, currency="CNY", points=None, description="",
        details={"percent_off": 10, "max_amount": 50000},
    )  # fmt: skip
    assert coupon == "10% off, up to ¥500"
    assert (
        rules.reward_value_text(
            kind="donation", amount_minor=500, currency="CNY", points=None, description="A tree"
        )
        == "¥5 donated"
    )
    assert rules.reward_value_text(
        kind="points", amount_minor=None, currency="", points=300, description="x",
        points_name="green miles",
    ) == "300 green miles"  # fmt: skip


def test_tier_progress_names_the_next_tier_and_the_distance():
    tiers = green_home_spec(2026)["tiers"]
    assert rules.tier_progress(tiers, 0).remaining == 3
    p = rules.tier_progress(tiers, 4)
    assert (p.next_threshold, p.remaining, len(p.reached_labels)) == (5, 1, 1)
    assert p.next_label.startswith("Eco cutlery blind bag")
    top = rules.tier_progress(tiers, 7)
    assert (top.next_label, top.remaining, len(top.reached_labels)) == ("", 0, 2)
    assert rules.tier_progress([], 3) is None


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
    b = rules.balances(facts, ledger_points=300, currency="CNY", donated_minor=5000)
    assert b == rules.Balances(
        points=300, points_pending=250, cash_pending="¥200", cash_paid="¥75", charity="¥50"
    )


def test_an_offer_that_rests_on_conditions_is_said_as_conditions():
    spec = saas_b2b_spec(2026)
    # A referrer who rates us 9: what is left to decide rests on the friend's team.
    sentences = rules.offer_sentences(spec, referrer={"nps": 9, "segments": []})
    assert sentences["friend"] == (
        "Your friend gets First year 10% off or 1 month free. If your friend's team expects 10 "
        "or more users, they also get Success pack: 2 h implementation consultant, template "
        "import, security guide and 30-day extension of the SSO/automation trial. For friends "
        "who meet: A new account not seen in the last 12 months."
    )
    # A referrer whose own facts rule the perks out: nothing is promised.
    ruled_out = rules.offer_sentences(spec, referrer={"nps": 6, "segments": []})
    assert ruled_out["friend"] == (
        "Your friend gets First year 10% off or 1 month free. For friends who meet: "
        "A new account not seen in the last 12 months."
    )
    assert "Customer success club" not in ruled_out["you"]
    assert (
        "If your friend's team expects 10 or more users, you also get Customer success club"
        in (sentences["you"])
    )
