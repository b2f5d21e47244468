"""CSV cells that people open in a spreadsheet: text that would run as a formula is
neutralised, and money is written in the currency's major unit next to its currency."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from .money import to_major

# A cell starting with one of these is a formula in Excel, LibreOffice and Google Sheets
# (OWASP "CSV injection"); tab and carriage return smuggle one past a naive check.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value):
    """Text beginning like a formula gets a leading apostrophe, which spreadsheets show as
    text; numbers (a negative amount included) are left as numbers."""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def safe_row(values: Iterable) -> list:
    return [safe_cell(v) for v in values]


def major_cell(amount_minor: int | None, currency: str) -> Decimal | str:
    """3500 CNY → 35.00, 1500 JPY → 1500; empty when there is no amount."""
    value = to_major(amount_minor, currency) if currency else None
    return "" if value is None else value


def major_data(data, currency: str):
    """A JSON value with its money in major units, for a cell people read: each
    `<name>_minor` integer becomes `<name>` (`amount_minor` becomes `amount`) as the major
    amount's text, in the dict's own `currency` or else `currency`."""
    if isinstance(data, list):
        return [major_data(v, currency) for v in data]
    if not isinstance(data, dict):
        return data
    own = data.get("currency")
    own = own if isinstance(own, str) and len(own) == 3 else currency
    out = {}
    for key, value in data.items():
        if (
            isinstance(key, str)
            and key.endswith("_minor")
            and isinstance(value, int)
            and not isinstance(value, bool)
        ):
            out[key[: -len("_minor")]] = str(major_cell(value, own))
        else:
            out[key] = major_data(value, currency)
    return out
