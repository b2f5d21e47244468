"""The CSV batch: payouts collect in rewards' batches, a person downloads the CSV, pays and
marks the batch paid (rewards' batch pages). Nothing is sent from here."""

from __future__ import annotations

from .base import Adapter, Result


class CsvBatchAdapter(Adapter):
    kind = "csv"
    automatic = False

    def destination(self, participant) -> str:
        return participant.email or ""

    def send(self, **kwargs) -> Result:
        return Result("pending", reason="Paid by a person from the batch CSV.")

    def poll(self, **kwargs) -> Result:
        return Result("pending", reason="Paid by a person from the batch CSV.")
