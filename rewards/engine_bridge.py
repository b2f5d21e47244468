"""The calls rewards makes into the rule engine (programs.engine), in one place. Rewards
never builds a referral's facts: the flow (`pipeline.flow`) hands it tracking's facts with
fraud's decision, and rewards adds only what it owns (`with_reward_facts`)."""

from __future__ import annotations

import dataclasses

from programs import engine
from programs.engine.types import ReferralFacts
from tracking.selectors import referral_spec  # noqa: F401 - the spec a referral follows


def with_reward_facts(facts: ReferralFacts, **values) -> ReferralFacts:
    """Fill the facts rewards owns: cap slots, cap state, budget used, chosen options."""
    known = {f.name for f in dataclasses.fields(facts)}
    return dataclasses.replace(facts, **{k: v for k, v in values.items() if k in known})


def evaluate_rewards(spec: dict, facts: ReferralFacts, now, cal) -> list:
    return list(engine.evaluate_rewards(spec, facts, now, cal))


def evaluate_tiers(spec, referrer, log, now, cal) -> list:
    return list(engine.evaluate_tiers(spec, referrer, log, now, cal))


def evaluate_season_close(*args, **kwargs):
    return engine.evaluate_season_close(*args, **kwargs)
