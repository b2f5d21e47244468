"""What a KPI's number means, so goals and targets store integers while people type and
read percents, amounts and plain ratios: a rate 18% is stored as 1800 basis points, money
¥35.00 as 3500 minor units, a ratio 3.2 as 320 hundredths."""

from __future__ import annotations

from decimal import Decimal

from referral_platform.core.money import (
    decimal_to_scaled,
    exponent,
    format_minor,
    scaled_to_decimal,
    to_minor,
)

RATE, MONEY, RATIO = "rate", "money", "ratio"
# Every other KPI is a rate.
METRIC_UNITS = {
    "cost_per_referred_customer": MONEY,
    "reward_cost": MONEY,
    "referred_ltv_365d": MONEY,
    "baseline_ltv_365d": MONEY,
    "ltv_to_cac": RATIO,
    "referrals_per_referrer": RATIO,
}
# Basis points are hundredths of a percent; ratios are kept in hundredths too.
PLACES = 2


def metric_unit(metric: str) -> str:
    return METRIC_UNITS.get(metric, RATE)


def typed_places(metric: str, currency: str) -> int:
    """How many decimals a person may type for this metric."""
    return exponent(currency) if metric_unit(metric) == MONEY else PLACES


def percent_to_bp(percent: Decimal | int | str) -> int:
    """18 → 1800, 12.5 → 1250; ValueError beyond two decimals."""
    return decimal_to_scaled(percent, PLACES)


def bp_to_percent(bp: int) -> Decimal:
    """1800 → 18, 1250 → 12.5 (no trailing zeros, as people type it)."""
    return _plain(scaled_to_decimal(bp, PLACES))


def to_stored(metric: str, value: Decimal, currency: str) -> int:
    """The typed target in the metric's integer unit; ValueError on too many decimals."""
    if metric_unit(metric) == MONEY:
        return to_minor(value, currency)
    return decimal_to_scaled(value, PLACES)


def stored_text(metric: str, value: int | None, currency: str) -> str:
    """A stored goal number as people read it: 18%, ¥35, 3.20."""
    if value is None:
        return "—"
    unit = metric_unit(metric)
    if unit == MONEY:
        return format_minor(value, currency)
    if unit == RATIO:
        return str(scaled_to_decimal(value, PLACES))
    return f"{bp_to_percent(value)}%"


def _plain(value: Decimal) -> Decimal:
    # normalize() alone turns 20 into 2E+1.
    return Decimal(f"{value.normalize():f}")
