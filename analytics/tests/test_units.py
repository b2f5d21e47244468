from decimal import Decimal

import pytest

from analytics import units


@pytest.mark.parametrize(
    ("metric", "typed", "stored", "text"),
    [("referral_share", "18", 1800, "18%"), ("fraud_rate", "0.25", 25, "0.25%"),
     ("conversion_rate", "20", 2000, "20%"), ("cost_per_referred_customer", "35", 3500, "¥35"),
     ("ltv_to_cac", "3.2", 320, "3.20")],
)  # fmt: skip
def test_a_goal_target_is_stored_in_its_metrics_integer_unit_and_read_back(
    metric, typed, stored, text
):
    assert units.to_stored(metric, Decimal(typed), "CNY") == stored
    assert units.stored_text(metric, stored, "CNY") == text


def test_a_money_target_follows_the_currencys_decimals():
    assert units.to_stored("cost_per_referred_customer", Decimal("3500"), "JPY") == 3500
    assert units.typed_places("cost_per_referred_customer", "JPY") == 0
    with pytest.raises(ValueError):
        units.to_stored("cost_per_referred_customer", Decimal("35.5"), "JPY")
    with pytest.raises(ValueError):
        units.to_stored("referral_share", Decimal("18.125"), "JPY")


def test_percents_and_basis_points():
    assert [units.percent_to_bp(p) for p in ("5", "12.5", "0.01", "50")] == [500, 1250, 1, 5000]
    assert [str(units.bp_to_percent(bp)) for bp in (500, 1250, 1, 5000, 0)] == [
        "5",
        "12.5",
        "0.01",
        "50",
        "0",
    ]
