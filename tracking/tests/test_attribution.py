"""The attribution rules as pure functions (SEMANTICS §3)."""

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from tracking.attribution import ATTRIBUTED, NONE, REVIEW, Settings, Touch, decide

SIGNUP = datetime(2026, 3, 31, 12, 0, tzinfo=UTC)
LAST30 = Settings(window_days=30, model="last")
FIRST30 = Settings(window_days=30, model="first")


def days_before(days: float) -> datetime:
    return SIGNUP - timedelta(days=days)


def test_a_click_29_days_before_the_signup_counts_and_31_days_does_not():
    inside = decide(
        [Touch("link", 1, days_before(29), click_id="A")], signup_at=SIGNUP, settings=LAST30
    )
    outside = decide(
        [Touch("link", 1, days_before(31), click_id="A")], signup_at=SIGNUP, settings=LAST30
    )
    assert (inside.outcome, inside.referrer_id) == (ATTRIBUTED, 1)
    assert outside.outcome == NONE
    assert outside.losers[0][1] == "outside_window"


def test_the_window_edge_itself_is_inside_and_a_touch_after_the_signup_is_not():
    edge = decide([Touch("link", 1, days_before(30))], signup_at=SIGNUP, settings=LAST30)
    after = decide(
        [Touch("link", 1, SIGNUP + timedelta(seconds=1))], signup_at=SIGNUP, settings=LAST30
    )
    assert edge.outcome == ATTRIBUTED
    assert after.outcome == NONE


def test_last_touch_and_first_touch_pick_different_referrers():
    touches = [
        Touch("link", 1, days_before(10), click_id="A"),
        Touch("link", 2, days_before(2), click_id="B"),
    ]
    assert decide(touches, signup_at=SIGNUP, settings=LAST30).referrer_id == 2
    first = decide(touches, signup_at=SIGNUP, settings=FIRST30)
    assert first.referrer_id == 1
    assert [(t.referrer_id, why) for t, why in first.losers] == [(2, "later_touch")]


def test_a_link_beats_a_typed_code_when_they_disagree():
    touches = [
        Touch("code", 2, SIGNUP, code="BBBBBBB"),
        Touch("link", 1, days_before(5), click_id="A"),
    ]
    decision = decide(touches, signup_at=SIGNUP, settings=LAST30)
    assert (decision.referrer_id, decision.source) == (1, "link")
    assert [(t.referrer_id, why) for t, why in decision.losers] == [(2, "lower_priority")]


def test_qr_and_code_rank_equal_so_the_latest_wins():
    touches = [Touch("qr", 1, days_before(3), click_id="A"), Touch("code", 2, SIGNUP, code="C")]
    assert decide(touches, signup_at=SIGNUP, settings=LAST30).referrer_id == 2


def test_a_claim_made_after_the_purchase_still_attributes():
    claim = Touch("claim", 3, SIGNUP + timedelta(days=9))
    decision = decide([claim], signup_at=SIGNUP, settings=LAST30)
    assert (decision.outcome, decision.referrer_id, decision.source) == (ATTRIBUTED, 3, "claim")


def test_two_claims_naming_different_referrers_go_to_review():
    touches = [Touch("claim", 3, SIGNUP), Touch("claim", 4, SIGNUP + timedelta(days=1))]
    decision = decide(touches, signup_at=SIGNUP, settings=LAST30)
    assert decision.outcome == REVIEW
    assert decision.rule["candidates"] == [3, 4]


def test_a_leaked_code_never_attributes():
    decision = decide(
        [Touch("link", 1, days_before(1), leaked=True)], signup_at=SIGNUP, settings=LAST30
    )
    assert decision.outcome == NONE and decision.losers[0][1] == "leaked_code"


def test_self_referral_is_attributed_but_flagged_for_fraud():
    decision = decide(
        [Touch("link", 7, days_before(1), self_referral=True)], signup_at=SIGNUP, settings=LAST30
    )
    assert decision.outcome == ATTRIBUTED and decision.self_referral
    assert decision.evidence()["self_referral"] is True


def test_every_touch_in_the_window_is_kept_as_an_assist():
    touches = [
        Touch("link", 1, days_before(20), click_id="A"),
        Touch("link", 2, days_before(3), click_id="B"),
        Touch("code", 1, SIGNUP, code="C"),
        Touch("link", 9, days_before(40), click_id="OLD"),
    ]
    decision = decide(touches, signup_at=SIGNUP, settings=LAST30)
    assert decision.referrer_id == 2
    assert sorted((t.referrer_id, t.source) for t in decision.assists) == [(1, "code"), (1, "link")]
    narrow = decide(
        touches, signup_at=SIGNUP, settings=Settings(window_days=30, assist_window_days=7)
    )
    assert [(t.referrer_id, t.source) for t in narrow.assists] == [(1, "code")]


def test_the_evidence_names_the_rule_the_winner_and_the_losers():
    touches = [
        Touch("link", 1, days_before(10), click_id="A"),
        Touch("link", 2, days_before(2), click_id="B"),
    ]
    evidence = decide(touches, signup_at=SIGNUP, settings=LAST30).evidence()
    assert evidence["rule"]["window_days"] == 30 and evidence["rule"]["model"] == "last"
    assert evidence["winner"]["click_id"] == "B"
    assert evidence["losers"] == [{**touches[0].as_evidence(), "why": "earlier_touch"}]


touch_strategy = st.builds(
    Touch,
    source=st.sampled_from(["link", "qr", "code", "claim", "identity"]),
    referrer_id=st.integers(1, 4),
    at=st.integers(-40 * 24, 10 * 24).map(lambda h: SIGNUP - timedelta(hours=h)),
    click_id=st.sampled_from(["", "A", "B"]),
    leaked=st.booleans(),
)
settings_strategy = st.builds(
    Settings,
    window_days=st.sampled_from([7, 30, 90]),
    model=st.sampled_from(["first", "last"]),
    assist_window_days=st.sampled_from([None, 7]),
)


@given(touches=st.lists(touch_strategy, max_size=8), settings=settings_strategy, data=st.data())
def test_the_decision_does_not_depend_on_the_order_touches_were_recorded(touches, settings, data):
    shuffled = data.draw(st.permutations(touches))
    assert decide(touches, signup_at=SIGNUP, settings=settings) == decide(
        shuffled, signup_at=SIGNUP, settings=settings
    )


@given(touches=st.lists(touch_strategy, max_size=8), settings=settings_strategy)
def test_the_winner_is_always_a_valid_touch_of_the_strongest_source(touches, settings):
    decision = decide(touches, signup_at=SIGNUP, settings=settings)
    valid = [t for t in touches if not t.leaked and _in(t, settings)]
    if not valid:
        assert decision.outcome == NONE
        return
    if decision.outcome == ATTRIBUTED:
        assert decision.winner in valid
        assert settings.rank(decision.winner.source) == min(settings.rank(t.source) for t in valid)


def _in(t, settings):
    window = timedelta(days=settings.window_days)
    if t.source in ("claim", "identity"):
        return abs(SIGNUP - t.at) <= window
    return SIGNUP - window <= t.at <= SIGNUP


def test_every_archetype_and_the_default_rank_qr_and_code_together_below_link_above_claim():
    from programs.templates_data import ARCHETYPES
    from tracking import rules

    specs = [build(2026) for build in ARCHETYPES.values()] + [{"attribution": {}}]
    for spec in specs:
        settings = Settings.from_dict(rules.attribution_settings(spec))
        ranks = [settings.rank(s) for s in ("link", "qr", "code", "claim", "identity")]
        assert ranks == [0, 1, 1, 2, 3], spec.get("slug")


def test_a_program_that_lists_qr_before_code_ranks_them_apart():
    settings = Settings.from_dict({"priority": ["link", "qr", "code", "claim", "identity"]})
    touches = [Touch("qr", 1, days_before(3), click_id="A"), Touch("code", 2, SIGNUP, code="C")]
    decision = decide(touches, signup_at=SIGNUP, settings=settings)
    assert (decision.referrer_id, decision.source) == (1, "qr")
    assert [(t.referrer_id, why) for t, why in decision.losers] == [(2, "lower_priority")]
