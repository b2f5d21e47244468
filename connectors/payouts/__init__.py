"""Outbound payouts behind one adapter interface: the CSV batch a person pays, Stripe
Connect transfers and PayPal Payouts."""

from __future__ import annotations

from .base import Adapter, Result
from .csv_batch import CsvBatchAdapter
from .paypal import PaypalAdapter
from .stripe_connect import StripeConnectAdapter

ADAPTERS: dict[str, type[Adapter]] = {
    "csv": CsvBatchAdapter,
    "stripe_connect": StripeConnectAdapter,
    "paypal": PaypalAdapter,
}


def adapter_for(provider) -> Adapter:
    return ADAPTERS[provider.kind](provider)


__all__ = ["ADAPTERS", "Adapter", "Result", "adapter_for"]
