"""The engine's inputs and outputs: plain frozen data shared by programs, tracking and rewards."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class EventFact:
    id: int
    type: str  # signup | qualified_lead | purchase | refund | activity | share
    occurred_at: datetime
    amount_minor: int | None = None
    currency: str = ""
    order_id: str = ""
    properties: Mapping = field(default_factory=dict)


@dataclass(frozen=True)
class ParticipantFact:
    id: int
    attributes: Mapping = field(default_factory=dict)
    segments: tuple[str, ...] = ()


@dataclass(frozen=True)
class ReferralFacts:
    """What the engine may know about one referral when deciding."""

    referral_id: int
    created_at: datetime  # occurred_at of the sign-up
    referrer: ParticipantFact
    referee: ParticipantFact
    # The referee's events (sign-up included), any order; the engine sorts by occurred_at.
    events: tuple[EventFact, ...] = ()
    status: str = "pending"
    # Cap slots already taken by *other* referrals: {(cap_key, period_key): count or amount}.
    slots_used: Mapping[tuple[str, str], int] = field(default_factory=dict)
    # Referrer-side counts of earlier boosts already paid: {boost_key: amount_minor}.
    boost_used: Mapping[str, int] = field(default_factory=dict)
    # approve | review | reject: fraud's decision (`fraud.selectors.referral_fraud_decision`).
    # Unknown means review: cash never goes out on a referral fraud has not cleared.
    fraud_decision: str = "review"
    # Per cap, whether this referral already holds a slot ("held") or was refused ("refused"),
    # from its existing reward rows: a decision once taken is never revisited (SEMANTICS §5).
    cap_state: Mapping[str, str] = field(default_factory=dict)
    # The referrer's successes before this referral's (for "first success" segment bonuses).
    referrer_successes_before: int = 0
    # Options the beneficiary already chose: {item key: option key}.
    chosen_options: Mapping[str, str] = field(default_factory=dict)
    # Money already committed against the program's budget by other referrals (minor units).
    budget_used: int = 0
    # An earlier referral of the program has a referee of the same company (its
    # `company_id`, or its email domain when that is not a free-mail provider).
    company_referred_before: bool = False


@dataclass(frozen=True)
class StageDecision:
    stage_key: str
    status: str  # the referral status the stage sets
    occurred_at: datetime
    event_id: int | None
    due_at: datetime | None
    success: bool = False
    reversed: bool = False
    reversed_at: datetime | None = None
    explanation: str = ""


@dataclass(frozen=True)
class RewardDecision:
    """One reward item (SEMANTICS §5): keyed by (beneficiary, scope, reason)."""

    beneficiary_id: int  # a participant id
    side: str  # referrer | referee
    scope: str  # referral:<id> | period:<key>
    reason: str  # stage:<rule> | tier:<rule> | season:<rank> | bonus:<rule> | lottery:… | charity:… | honor:…
    rule_key: str
    kind: str  # cash | coupon | points | credit | perk | lottery_ticket | donation
    amount_minor: int | None
    currency: str
    points: int | None
    description: str
    status: str  # pending | capped | rejected
    due_at: datetime | None
    hold_reason: str = "hold"  # hold | review | choice | ""
    blocked_reason: str = ""  # cap:<key> | budget | ineligible:<rule> | fraud
    boost: str = ""
    options: tuple[Mapping, ...] = ()
    details: Mapping = field(default_factory=dict)
    choice_deadline: datetime | None = None
    expires_at: datetime | None = None
    # The cap slot this item takes, if any: (cap_key, period_key).
    cap_slot: tuple[str, str] | None = None
    explanation: str = ""
    # What a derived item (tier, ladder, season, lottery prize, team, ambassador) was
    # computed from: `(referral_id, stage_key)` of each referral it counted (SEMANTICS §10
    # "Derived items"). A later rejection or reversal of one of them reverses the item.
    basis: tuple[tuple[int, str], ...] = ()
