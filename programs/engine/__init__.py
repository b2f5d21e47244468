"""The rule engine: pure functions, no database, no clock of its own (SEMANTICS §0).

Facts and a time in, decisions out. `tracking` writes referral statuses from
`evaluate_stages`; `rewards` persists `evaluate_rewards` and the periodic decisions.
"""

from .experiments import (  # noqa: F401
    assign_variant,
    hash_point,
    spec_for_variants,
    variants_assign,
    variants_decode,
    variants_encode,
)
from .period import (  # noqa: F401
    AmbassadorReferral,
    CountedFact,
    Expiry,
    LotteryWin,
    PointsLot,
    Standing,
    TeamDecision,
    TeamMember,
    TeamReversal,
    ambassador_decision,
    ambassador_evaluate,
    draw_lottery,
    evaluate_season_close,
    evaluate_tiers,
    lottery_decisions,
    points_expires_at,
    points_expiry,
    season_ranking,
    seed_commitment,
    team_evaluate,
)
from .rewards import (  # noqa: F401
    attribution_settings,
    eligibility,
    evaluate_rewards,
    evaluate_stages,
    expected_dates,
    item_value,
    reserved_value,
)
from .types import (  # noqa: F401
    EventFact,
    ParticipantFact,
    ReferralFacts,
    RewardDecision,
    StageDecision,
)
