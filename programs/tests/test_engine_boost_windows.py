"""A boost is in force on fixed dates, every year in a month or ISO week (tenant-local), or
during the program's first N days; the spec refuses a boost with no window or two."""

from datetime import datetime

from programs.engine import ParticipantFact, evaluate_rewards
from programs.engine.boosts import boost_in_force
from programs.spec import validate_spec
from programs.summary import summarize
from programs.templates_data import ARCHETYPES
from programs.tests.factsbuilder import CAL, ev, facts
from programs.tests.factsbuilder import at as fb_at

SPEC = {"starts_at": "2026-01-10T00:00:00+08:00"}


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def test_a_yearly_month_repeats_every_year_in_local_time():
    boost = {"every_year": {"month": 4}}
    assert boost_in_force(boost, at("2026-04-15T10:00:00+08:00"), SPEC, CAL)
    assert boost_in_force(boost, at("2031-04-01T00:00:00+08:00"), SPEC, CAL)
    # 31 March 17:00 UTC is already 1 April in Shanghai; 30 April 16:00 UTC is 1 May there.
    assert boost_in_force(boost, at("2027-03-31T17:00:00+00:00"), SPEC, CAL)
    assert not boost_in_force(boost, at("2027-04-30T16:00:00+00:00"), SPEC, CAL)


def test_a_yearly_iso_week_repeats_every_year():
    boost = {"every_year": {"iso_week": 10}}
    assert boost_in_force(boost, at("2026-03-02T09:00:00+08:00"), SPEC, CAL)  # Monday, week 10
    assert not boost_in_force(boost, at("2026-03-09T09:00:00+08:00"), SPEC, CAL)
    assert boost_in_force(boost, at("2027-03-08T09:00:00+08:00"), SPEC, CAL)  # 2027's week 10


def test_the_programs_first_days():
    boost = {"first_days": 14}
    assert boost_in_force(boost, at("2026-01-23T23:59:00+08:00"), SPEC, CAL)
    assert not boost_in_force(boost, at("2026-01-24T00:00:00+08:00"), SPEC, CAL)
    assert not boost_in_force(boost, at("2026-01-09T12:00:00+08:00"), SPEC, CAL)


def test_plan_a_double_mql_week_and_april_month_repeat_next_year():
    spec = ARCHETYPES["saas-b2b"](2026)  # the 2026 spec, unchanged, running in 2027
    admin = ParticipantFact(100, {"in_arrears": False}, ("paying",))
    lead = facts(
        ev("signup", fb_at(2027, 2, 20)), ev("qualified_lead", fb_at(2027, 3, 10)), referrer=admin
    )
    [mql] = evaluate_rewards(spec, lead, fb_at(2027, 3, 11), CAL)
    assert (mql.amount_minor, mql.boost) == (8000, "double_mql_week")
    later = facts(
        ev("signup", fb_at(2027, 2, 20)), ev("qualified_lead", fb_at(2027, 3, 15)), referrer=admin
    )
    [mql] = evaluate_rewards(spec, later, fb_at(2027, 3, 16), CAL)
    assert (mql.amount_minor, mql.boost) == (5000, "")


def test_a_boost_needs_exactly_one_window():
    spec = ARCHETYPES["saas-b2b"](2026)
    spec["boosts"][0]["first_days"] = 7
    problems = {p.path: p.message for p in validate_spec(spec)}
    assert problems == {
        "boosts[0].starts_at": "Give the boost one window: dates, every year, or the program's first days."
    }
    del spec["boosts"][0]["first_days"], spec["boosts"][0]["every_year"]
    assert "boosts[0].starts_at" in {p.path for p in validate_spec(spec)}


def test_the_summary_says_when_a_yearly_boost_runs():
    lines = summarize(ARCHETYPES["saas-b2b"](2026))
    assert "Boost “Double MQL week”: every year in ISO week 10." in lines
    assert "Boost “Referee +1 free month”: every year in April." in lines
