from decimal import Decimal

import pytest

from referral_platform.core.money import to_major, to_minor


@pytest.mark.parametrize(
    ("typed", "currency", "minor"),
    [("35", "CNY", 3500), ("35.5", "CNY", 3550), ("0.01", "USD", 1), ("1500", "JPY", 1500),
     ("1.234", "BHD", 1234), ("-2.50", "CNY", -250)],
)  # fmt: skip
def test_an_amount_in_the_main_unit_becomes_exact_minor_units_and_back(typed, currency, minor):
    assert to_minor(Decimal(typed), currency) == minor
    assert to_major(minor, currency) == Decimal(typed)


def test_amounts_read_back_with_the_currencys_decimals():
    assert [str(to_major(n, c)) for n, c in ((3500, "CNY"), (0, "CNY"), (1500, "JPY"))] == [
        "35.00",
        "0.00",
        "1500",
    ]
    assert to_major(None, "CNY") is None


@pytest.mark.parametrize(("typed", "currency"), [("35.005", "CNY"), ("0.5", "JPY"), ("NaN", "CNY")])
def test_more_decimals_than_the_currency_has_is_refused_rather_than_rounded(typed, currency):
    with pytest.raises(ValueError):
        to_minor(Decimal(typed), currency)
