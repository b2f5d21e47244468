"""Form fields shared by the staff pages: people type amounts, we store integers."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .money import MAX_AMOUNT, exponent, to_major, to_minor

__all__ = ["MAX_AMOUNT", "MoneyField", "too_many_decimals"]


def too_many_decimals(places: int) -> ValidationError:
    if places == 0:
        return ValidationError(_("Enter a whole number."), code="decimals")
    return ValidationError(
        ngettext(
            "Enter at most %(places)d decimal place.",
            "Enter at most %(places)d decimal places.",
            places,
        ),
        code="decimals",
        params={"places": places},
    )


class MoneyField(forms.DecimalField):
    """An amount typed in the currency's main unit (35.00), cleaned to the minor units we
    store (3500); an initial value in minor units shows as 35.00. The label may hold
    `%(currency)s`; the form names the currency with `set_currency` before rendering."""

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("min_value", 0)
        kwargs.setdefault("max_value", MAX_AMOUNT)
        super().__init__(**kwargs)
        self.label_template = self.label
        self.currency = ""

    def set_currency(self, currency: str) -> None:
        self.currency = currency
        self.widget.attrs["step"] = str(Decimal(1).scaleb(-exponent(currency)))
        if self.label_template is not None:
            self.label = str(self.label_template) % {"currency": currency}

    def prepare_value(self, value):
        if isinstance(value, int) and not isinstance(value, bool):
            return to_major(value, self.currency)
        return value

    def clean(self, value) -> int | None:
        amount = super().clean(value)
        if amount is None:
            return None
        try:
            return to_minor(amount, self.currency)
        except ValueError:
            raise too_many_decimals(exponent(self.currency)) from None
