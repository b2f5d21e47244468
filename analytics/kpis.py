"""The funnel and KPI definitions of SEMANTICS §7, as pure functions over plain aggregates.

This is the one place they are computed: the API, the dashboards, the exports and the goals
all call `funnel_steps` and `kpis_compute`. Inputs are integers (counts, minor units);
ratios come out as `Decimal` rounded to 4 places, or `None` when the denominator is zero
(an undefined rate is not 0%).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal

from django.utils.translation import gettext_lazy as _

FUNNEL_STEPS = ("shares", "clicks", "signups", "qualified", "converted", "retained", "rewarded")

_PLACES = Decimal("0.0001")


def ratio(numerator: int, denominator: int) -> Decimal | None:
    if not denominator:
        return None
    return (Decimal(numerator) / Decimal(denominator)).quantize(_PLACES, ROUND_HALF_EVEN)


def per_unit(amount_minor: int, count: int) -> int | None:
    """Money per unit, rounded half-even to a whole minor unit (money stays an integer)."""
    if not count:
        return None
    value = (Decimal(amount_minor) / Decimal(count)).quantize(Decimal(1), ROUND_HALF_EVEN)
    return int(value)


# --- Reward cost --------------------------------------------------------------------------

# Kinds whose cost is carried by another row (a lottery ticket's prize is its own reward).
_NO_COST_KINDS = {"lottery_ticket"}


def reward_value(
    *,
    kind: str,
    amount_minor: int | None,
    points: int | None,
    details: Mapping | None,
    point_value: Mapping | None,
) -> int:
    """What one fulfilled item cost, in minor units (SEMANTICS §7 `reward_cost`).

    Cash, fixed coupons and donations at face value; a percent coupon at its computed
    amount (the row's amount once known, else `details.computed_amount`, else the
    `max_amount` it can reach); points × the program's `point_value` (0 when the program
    sets none); credits and perks at `estimated_value`.
    """
    details = details or {}
    if kind in _NO_COST_KINDS:
        return 0
    if kind == "points":
        if not points or not point_value:
            return 0
        return int(points) * int(point_value["amount"]) // int(point_value.get("per_points") or 1)
    if kind == "coupon" and details.get("percent_off") is not None:
        for candidate in (amount_minor, details.get("computed_amount"), details.get("max_amount")):
            if candidate is not None:
                return int(candidate)
        return 0
    if amount_minor is not None:
        return int(amount_minor)
    return int(details.get("estimated_value") or 0)


# --- Funnel -------------------------------------------------------------------------------


@dataclass(frozen=True)
class FunnelCounts:
    shares: int = 0
    clicks: int = 0
    signups: int = 0
    qualified: int = 0
    converted: int = 0
    retained: int = 0
    rewarded: int = 0

    def as_dict(self) -> dict[str, int]:
        return {step: getattr(self, step) for step in FUNNEL_STEPS}


def funnel_steps(counts: FunnelCounts) -> list[dict]:
    """Each step with its count and the conversion from the previous step."""
    out: list[dict] = []
    previous: int | None = None
    for step in FUNNEL_STEPS:
        value = getattr(counts, step)
        out.append(
            {
                "step": step,
                "count": value,
                "rate_from_previous": None if previous is None else ratio(value, previous),
            }
        )
        previous = value
    return out


# --- KPIs ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class CohortFigures:
    """Customer-level figures of one group (referred or baseline) for a date range."""

    signed_up: int = 0  # customers who signed up in range
    retained_90d: int = 0  # … of whom active or purchasing between day 60 and day 90
    first_purchasers: int = 0  # customers whose first purchase was in range
    repurchased_60d: int = 0  # … of whom bought again within 60 days of the first
    first_purchase_revenue_minor: int = 0  # net of refunds, subscriptions annualised
    ltv_customers: int = 0  # customers who signed up in range (the LTV denominator)
    ltv_365d_minor: int = 0  # their purchases minus refunds in 365 days after sign-up


@dataclass(frozen=True)
class KpiInputs:
    currency: str
    funnel: FunnelCounts
    all_new_customers: int = 0  # every `signup` of the tenant in range (tenant-wide)
    referrals: int = 0  # referrals created in range, not rejected
    referrers_with_referral: int = 0
    referrers_active: int = 0  # with ≥ 1 share or click in range
    enrolled_eligible: int = 0
    reward_cost_minor: int = 0
    reward_cost_by_kind: Mapping[str, int] = field(default_factory=dict)
    fulfilled: int = 0
    approved_past_due: int = 0
    rejected: int = 0
    assessed: int = 0
    review_backlog: int = 0
    review_past_sla: int = 0
    review_sla_hours: int = 48
    referred: CohortFigures = field(default_factory=CohortFigures)
    baseline: CohortFigures = field(default_factory=CohortFigures)
    acquisition_cost_minor: int | None = None  # tenant-supplied CAC, when given
    # Every first purchase in range (other programs' and rejected referrals' customers too);
    # None means referred + baseline.
    all_first_purchase_revenue_minor: int | None = None


def money(amount_minor: int | None, currency: str) -> dict | None:
    if amount_minor is None:
        return None
    return {"amount_minor": int(amount_minor), "currency": currency}


def kpis_compute(inputs: KpiInputs) -> dict:
    """Every KPI of SEMANTICS §7 from its aggregates. Money as `{amount_minor, currency}`."""
    f = inputs.funnel
    cur = inputs.currency
    cpra = per_unit(inputs.reward_cost_minor, f.converted)
    referred, baseline = inputs.referred, inputs.baseline
    total_revenue = inputs.all_first_purchase_revenue_minor
    if total_revenue is None:
        total_revenue = (
            referred.first_purchase_revenue_minor + baseline.first_purchase_revenue_minor
        )
    referred_ltv = per_unit(referred.ltv_365d_minor, referred.ltv_customers)
    baseline_ltv = per_unit(baseline.ltv_365d_minor, baseline.ltv_customers)
    cac = inputs.acquisition_cost_minor if inputs.acquisition_cost_minor is not None else cpra
    ltv_to_cac = (
        None
        if referred_ltv is None or not cac
        else (Decimal(referred_ltv) / Decimal(cac)).quantize(Decimal("0.01"), ROUND_HALF_EVEN)
    )
    return {
        "referral_share": ratio(inputs.referrals, inputs.all_new_customers),
        "conversion_rate": ratio(f.converted, f.clicks),
        "referrals_per_referrer": ratio(inputs.referrals, inputs.referrers_with_referral),
        "participation_rate": ratio(inputs.referrers_active, inputs.enrolled_eligible),
        "reward_cost": money(inputs.reward_cost_minor, cur),
        "cost_per_referred_customer": money(cpra, cur),
        "fulfilment_rate": ratio(inputs.fulfilled, inputs.fulfilled + inputs.approved_past_due),
        "fraud_rate": ratio(inputs.rejected, inputs.assessed),
        "referred_retention_90d": ratio(referred.retained_90d, referred.signed_up),
        "baseline_retention_90d": ratio(baseline.retained_90d, baseline.signed_up),
        "referred_repurchase_60d": ratio(referred.repurchased_60d, referred.first_purchasers),
        "baseline_repurchase_60d": ratio(baseline.repurchased_60d, baseline.first_purchasers),
        "referral_revenue_share": ratio(referred.first_purchase_revenue_minor, total_revenue),
        "referred_ltv_365d": money(referred_ltv, cur),
        "baseline_ltv_365d": money(baseline_ltv, cur),
        "ltv_to_cac": ltv_to_cac,
        "reward_cost_by_kind": {
            kind: money(value, cur) for kind, value in sorted(inputs.reward_cost_by_kind.items())
        },
        "review_backlog": {
            "in_review": inputs.review_backlog,
            "past_sla": inputs.review_past_sla,
            "sla_hours": inputs.review_sla_hours,
        },
    }


# One line each, shown on hover on the dashboards (and in the API schema's descriptions).
DEFINITIONS: dict[str, str] = {
    "shares": _("Share events sent by referrers."),
    "clicks": _("Human clicks on referral links (bots and HEAD excluded), one per click id."),
    "signups": _("Referrals created (the referee signed up); rejected ones excluded."),
    "qualified": _("Referrals reaching qualified, not later reversed."),
    "converted": _("Referrals reaching converted (paid), not later reversed."),
    "retained": _("Referrals reaching retained, not later reversed."),
    "rewarded": _("Referrals whose first reward was fulfilled that day."),
    "referral_share": _("Referred new customers ÷ all new customers of the tenant."),
    "conversion_rate": _("Converted referrals ÷ human clicks."),
    "referrals_per_referrer": _("Referrals ÷ referrers with at least one referral."),
    "participation_rate": _(
        "Referrers with at least one share or click ÷ enrolled eligible participants."
    ),
    "reward_cost": _("Value of fulfilled rewards minus clawbacks."),
    "cost_per_referred_customer": _("Reward cost ÷ converted referrals (CPRA)."),
    "fulfilment_rate": _("Fulfilled rewards ÷ (fulfilled + approved past their due date)."),
    "fraud_rate": _("Rejected referrals ÷ assessed referrals."),
    "referred_retention_90d": _(
        "Referred customers signed up in range with activity or a purchase on days 60–90."
    ),
    "baseline_retention_90d": _(
        "Non-referred customers signed up in range with activity or a purchase on days 60–90."
    ),
    "referred_repurchase_60d": _(
        "Referred first purchasers in range who bought again within 60 days."
    ),
    "baseline_repurchase_60d": _(
        "Non-referred first purchasers in range who bought again within 60 days."
    ),
    "referral_revenue_share": _(
        "First-purchase revenue of referred customers ÷ all first-purchase revenue (net of "
        "refunds; subscriptions annualised)."
    ),
    "referred_ltv_365d": _(
        "Purchases minus refunds in 365 days after sign-up, per referred customer."
    ),
    "baseline_ltv_365d": _(
        "Purchases minus refunds in 365 days after sign-up, per non-referred customer."
    ),
    "ltv_to_cac": _("Referred LTV ÷ cost per referred customer (or your acquisition cost)."),
    "reward_cost_by_kind": _("Reward cost split by reward kind."),
    "review_backlog": _("Referrals in review, and how many are past the review SLA."),
}
