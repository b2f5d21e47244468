"""The one clock. Tests travel in time with time-machine; code never calls datetime.now()."""

from datetime import datetime

from django.utils import timezone


def now() -> datetime:
    return timezone.now()
