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


# How a cost was valued, for the page to say: a known amount, a coupon at what it took off
# an order, or a coupon not used yet at its expected value.
FACE, REDEEMED, EXPECTED = "face", "redeemed", "expected"


def reward_valuation(
    *,
    kind: str,
    amount_minor: int | None,
    points: int | None,
    details: Mapping | None,
    point_value: Mapping | None,
    redeemed_order_minor: int | None = None,
    expected_minor: int | None = None,
) -> tuple[int, str]:
    """What one fulfilled item cost, in minor units (SEMANTICS §7 `reward_cost`), and how.

    Cash, fixed coupons and donations at face value; points × the program's `point_value`
    (0 when the program sets none); credits and perks at `estimated_value`. A percent coupon
    at its computed amount: the row's amount or `details.computed_amount` once known, else
    `percent_off` of the order it was redeemed on (`redeemed_order_minor`) up to its
    `max_amount` — both "redeemed"; while unused, its expected value — the spec item's
    `estimated_value` (`expected_minor` or `details.estimated_value`), else the `max_amount`
    it can reach.
    """
    details = details or {}
    if kind in _NO_COST_KINDS:
        return 0, FACE
    if kind == "points":
        if not points or not point_value:
            return 0, FACE
        per = int(point_value.get("per_points") or 1)
        return int(points) * int(point_value["amount"]) // per, FACE
    if kind == "coupon" and details.get("percent_off") is not None:
        for known in (amount_minor, details.get("computed_amount")):
            if known is not None:
                return int(known), REDEEMED
        cap = details.get("max_amount")
        if redeemed_order_minor is not None:
            off = int(redeemed_order_minor) * int(details["percent_off"]) // 100
            return (off if cap is None else min(off, int(cap))), REDEEMED
        for candidate in (expected_minor, details.get("estimated_value"), cap):
            if candidate is not None:
                return int(candidate), EXPECTED
        return 0, EXPECTED
    if amount_minor is not None:
        return int(amount_minor), FACE
    return int(details.get("estimated_value") or 0), FACE


def reward_value(**kwargs) -> int:
    """`reward_valuation`'s amount alone."""
    return reward_valuation(**kwargs)[0]


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


# A click is not a share that went further: one share can bring any number of clicks, so
# clicks are read per share, never as a percentage of shares.
_NOT_A_SUBSET = {"clicks"}


def funnel_steps(counts: FunnelCounts) -> list[dict]:
    """Each step with its count and the conversion from the previous step.

    `rate_from_previous` is the plain ratio to the step just before (the API's `rates`).
    What the page draws is `conversion` — the share of the base step that reached this one,
    never above 100 % — or, where the count can exceed its base (clicks per share, or more
    sign-ups in the range than clicks because codes need no click), `per_base`: a count per
    unit of the base. The base is the nearest earlier step with a count, so a program
    without a qualifying stage compares conversions with sign-ups, not with 0.
    """
    out: list[dict] = []
    previous: int | None = None
    base: str | None = None
    for step in FUNNEL_STEPS:
        value = getattr(counts, step)
        base_count = getattr(counts, base) if base else 0
        rate = ratio(value, base_count) if base else None
        is_percent = rate is not None and rate <= 1 and step not in _NOT_A_SUBSET
        out.append(
            {
                "step": step,
                "count": value,
                "rate_from_previous": None if previous is None else ratio(value, previous),
                "base": base if rate is not None else None,
                "conversion": rate if is_percent else None,
                "per_base": None
                if rate is None or is_percent
                else rate.quantize(Decimal("0.01"), ROUND_HALF_EVEN),
            }
        )
        previous = value
        if value:
            base = step
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
    # Percent coupons inside `reward_cost_minor` by valuation (`rollups` `cost_basis`).
    coupon_cost_basis: Mapping[str, int] = field(default_factory=dict)
    approved_unfulfilled_minor: int = 0  # approved, not yet fulfilled cash (committed)
    # Whole days from the range's last day to today: a cohort measure whose window has not
    # passed for every customer of the range is "not yet". None: old enough for all.
    cohort_age_days: int | None = None


# The days a customer of the range needs before each cohort measure is final.
MATURITY_DAYS = {"retention_90d": 90, "repurchase_60d": 60, "ltv_365d": 365}


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
    age = inputs.cohort_age_days
    not_yet = {m for m, days in MATURITY_DAYS.items() if age is not None and age < days}
    if "ltv_365d" in not_yet:
        referred_ltv = baseline_ltv = None
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
        **{
            f"{group}_{measure}": None if measure in not_yet else ratio(num, den)
            for group, figures in (("referred", referred), ("baseline", baseline))
            for measure, num, den in (
                ("retention_90d", figures.retained_90d, figures.signed_up),
                ("repurchase_60d", figures.repurchased_60d, figures.first_purchasers),
            )
        },
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
        "coupon_cost_basis": {
            basis: {
                "count": int(inputs.coupon_cost_basis.get(f"{basis}_count", 0)),
                "value": money(int(inputs.coupon_cost_basis.get(basis, 0)), cur),
            }
            for basis in (REDEEMED, EXPECTED)
        },
        "approved_unfulfilled": money(inputs.approved_unfulfilled_minor, cur),
        "not_yet": sorted(name for name, measure in _COHORT_KPIS.items() if measure in not_yet),
    }


# Which maturity each cohort KPI waits for.
_COHORT_KPIS = {
    "referred_retention_90d": "retention_90d",
    "baseline_retention_90d": "retention_90d",
    "referred_repurchase_60d": "repurchase_60d",
    "baseline_repurchase_60d": "repurchase_60d",
    "referred_ltv_365d": "ltv_365d",
    "baseline_ltv_365d": "ltv_365d",
    "ltv_to_cac": "ltv_365d",
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
