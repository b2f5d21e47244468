"""What the end-to-end tests share: participants and events through the public API, and
`tick` on a travelling clock. Events may carry an `occurred_at` in the past (API.md)."""

from datetime import datetime, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import time_machine
from django.core.management import call_command

from referral_platform.core import clock

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(month, day, hour=10, year=2026) -> datetime:
    """A time in the demo tenants' time zone."""
    return datetime(year, month, day, hour, tzinfo=SHANGHAI)


def participant(api, external_id, **fields) -> None:
    response = api.post(
        "/api/v1/participants", {"external_id": external_id, **fields}, format="json"
    )
    assert response.status_code in (200, 201), response.content


def event(api, event_id, type_, who, at, **extra) -> None:
    body = {
        "event_id": event_id,
        "type": type_,
        "occurred_at": at.isoformat(),
        "participant": {"external_id": who},
        **extra,
    }
    response = api.post("/api/v1/events", body, format="json")
    assert response.status_code == 202, response.content


def tick(at=None) -> None:
    """Every periodic job once, a minute after `at` (default now): the event sweeper leaves
    fresh events to their on-commit task for 30 s."""
    moment = (at or clock.now()) + timedelta(minutes=1)
    with time_machine.travel(moment, tick=False):
        call_command("tick", stdout=StringIO())


def referral_rewards(tenant, referee) -> dict:
    """The rewards of `referee`'s referral, by (beneficiary's external id, reason)."""
    from rewards.models import Reward

    return {
        (r.participant.external_id, r.reason): r
        for r in Reward.objects.for_tenant(tenant)
        .filter(referral__referee__external_id=referee)
        .select_related("participant")
    }
