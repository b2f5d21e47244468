"""Money as integer minor units with an ISO currency; never floats."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

# ISO 4217 exponents for the currencies we render; everything else has 2.
_EXPONENTS = {"JPY": 0, "KRW": 0, "VND": 0, "CLP": 0, "ISK": 0, "BHD": 3, "KWD": 3, "JOD": 3}
_SYMBOLS = {"CNY": "¥", "USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "HKD": "HK$"}

# The most any amount may be, in the currency's main unit: far below a bigint's limit in any
# currency's minor units, and far above any reward, order or budget.
MAX_AMOUNT = Decimal(10) ** 12


def exponent(currency: str) -> int:
    return _EXPONENTS.get(currency.upper(), 2)


@dataclass(frozen=True, order=True)
class Money:
    amount_minor: int
    currency: str

    def __post_init__(self) -> None:
        if not isinstance(self.amount_minor, int) or isinstance(self.amount_minor, bool):
            raise TypeError("amount_minor must be an int")
        if len(self.currency) != 3 or not self.currency.isalpha():
            raise ValueError(f"not an ISO currency: {self.currency!r}")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount_minor + other.amount_minor, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount_minor - other.amount_minor, self.currency)

    def __mul__(self, factor: int) -> Money:
        return Money(self.amount_minor * int(factor), self.currency)

    def _same(self, other: Money) -> None:
        if self.currency != other.currency:
            raise ValueError(f"cannot combine {self.currency} and {other.currency}")

    def as_dict(self) -> dict:
        return {"amount_minor": self.amount_minor, "currency": self.currency}

    @classmethod
    def from_dict(cls, data: dict) -> Money:
        return cls(int(data["amount_minor"]), str(data["currency"]).upper())

    def format(self, *, decimals: bool = False) -> str:
        """`¥50`, or `¥50.00` with `decimals` (always the currency's minor digits)."""
        exp = exponent(self.currency)
        sign = "-" if self.amount_minor < 0 else ""
        whole, frac = (
            divmod(abs(self.amount_minor), 10**exp) if exp else (abs(self.amount_minor), 0)
        )
        symbol = _SYMBOLS.get(self.currency, self.currency + " ")
        text = f"{whole:,}" if not (frac or decimals and exp) else f"{whole:,}.{frac:0{exp}d}"
        return f"{sign}{symbol}{text}"

    def __str__(self) -> str:
        return self.format()


def format_minor(amount_minor: int | None, currency: str | None, *, decimals: bool = False) -> str:
    if amount_minor is None or not currency:
        return ""
    return Money(int(amount_minor), currency).format(decimals=decimals)


def decimal_to_scaled(value: Decimal | int | str, places: int) -> int:
    """`value` × 10^places as an exact integer (35.5, 2 → 3550). ValueError when `value`
    has more than `places` decimals: rounding would store a different number than typed."""
    scaled = Decimal(value).scaleb(places)
    if not scaled.is_finite() or scaled != scaled.to_integral_value():
        raise ValueError(f"{value} has more than {places} decimals")
    return int(scaled)


def scaled_to_decimal(value: int, places: int) -> Decimal:
    """The inverse of `decimal_to_scaled`, with exactly `places` decimals (3550, 2 → 35.50)."""
    return (Decimal(int(value)) / 10**places).quantize(Decimal(10) ** -places)


def to_minor(amount: Decimal | int | str, currency: str) -> int:
    """An amount typed in the currency's main unit as minor units: 35.00 CNY → 3500,
    1500 JPY → 1500. ValueError beyond the currency's decimals (0.5 JPY)."""
    return decimal_to_scaled(amount, exponent(currency))


def max_minor(currency: str) -> int:
    """`MAX_AMOUNT` in `currency`'s minor units."""
    return to_minor(MAX_AMOUNT, currency)


def to_major(amount_minor: int | None, currency: str) -> Decimal | None:
    """Minor units as the amount people read and type: 3500 CNY → 35.00."""
    return None if amount_minor is None else scaled_to_decimal(amount_minor, exponent(currency))
