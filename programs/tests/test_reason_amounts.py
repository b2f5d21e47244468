"""Reasons people read name amounts in the currency's major unit (¥25.00), never in the
spec's minor units (2500)."""

from datetime import timedelta

from programs.engine import ParticipantFact, evaluate_rewards
from programs.templates_data import green_home_spec

from .factsbuilder import CAL, at, ev, facts

MEMBER = ParticipantFact(100, {"orders_count": 4, "phone_verified": True})


def test_an_amount_cap_says_what_is_used_and_the_limit_in_yuan():
    spec = green_home_spec(2026)
    spec["caps"][0].update(limit=3000, measure="amount", items=["referrer_choice"])
    when = at(2026, 1, 5, 3)
    events = [ev("signup", when - timedelta(hours=1)), ev("purchase", when, 12000, order_id="o1")]
    period = "2026-01"
    decisions = evaluate_rewards(
        spec,
        facts(*events, referral_id=1, referrer=MEMBER,
              slots_used={(spec["caps"][0]["key"], period): 2500}),
        at(2026, 1, 20),
        CAL,
    )  # fmt: skip
    capped = next(d for d in decisions if d.rule_key == "referrer_choice")
    assert capped.status == "capped"
    assert "¥25.00 of ¥30.00" in capped.explanation
    assert "2500" not in capped.explanation
