"""The rule engine: pure functions, no database, no clock of its own (SEMANTICS §0).

Facts and a time in, decisions out. `tracking` writes referral statuses from
`evaluate_stages`; `rewards` persists `evaluate_rewards` and the periodic decisions.
"""

from .types import (  # noqa: F401
    EventFact,
    ParticipantFact,
    ReferralFacts,
    RewardDecision,
    StageDecision,
)
