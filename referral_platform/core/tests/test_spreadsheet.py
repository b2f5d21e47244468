"""Spreadsheet cells: formula-like text made inert, money in JSON data in major units."""

from __future__ import annotations

from referral_platform.core.spreadsheet import major_data, safe_row


def test_money_in_data_reads_in_major_units_in_its_own_or_the_given_currency():
    data = {
        "second_approval_above_minor": 50000,
        "refund": {"amount_minor": 1500, "currency": "JPY"},
        "items": [{"amount_minor": 3550}],
        "points": 120,
        "flag_minor": True,
    }
    assert major_data(data, "CNY") == {
        "second_approval_above": "500.00",
        "refund": {"amount": "1500", "currency": "JPY"},
        "items": [{"amount": "35.50"}],
        "points": 120,
        "flag_minor": True,
    }


def test_formula_like_text_is_made_inert_and_numbers_are_kept():
    assert safe_row(["=1+1", "+cmd", "-2", "@SUM(A1)", "\tx", "ok", -3]) == [
        "'=1+1",
        "'+cmd",
        "'-2",
        "'@SUM(A1)",
        "'\tx",
        "ok",
        -3,
    ]
