"""Scripted fact sequences for the rule engine tests."""

from __future__ import annotations

from datetime import datetime, timedelta
from itertools import count
from zoneinfo import ZoneInfo

from programs.engine import EventFact, ParticipantFact, ReferralFacts
from referral_platform.core.calendar import TenantCalendar

TZ = ZoneInfo("Asia/Shanghai")
CAL = TenantCalendar("Asia/Shanghai")
_ids = count(1)


def at(y, m, d, h=10) -> datetime:
    return datetime(y, m, d, h, tzinfo=TZ)


def ev(type_, when, amount=None, order_id="", **properties) -> EventFact:
    return EventFact(
        id=next(_ids), type=type_, occurred_at=when, amount_minor=amount, currency="CNY" if amount else "",
        order_id=order_id, properties=properties,
    )  # fmt: skip


def facts(*events, referral_id=1, referrer=None, referee=None, **extra) -> ReferralFacts:
    signup = next((e for e in events if e.type == "signup"), events[0])
    return ReferralFacts(
        referral_id=referral_id,
        created_at=signup.occurred_at,
        referrer=referrer or ParticipantFact(100, {}),
        referee=referee or ParticipantFact(200 + referral_id, {}),
        events=tuple(events),
        **{"fraud_decision": "approve", **extra},
    )


def by_reason(decisions) -> dict:
    return {(d.side, d.reason): d for d in decisions}


def later(when, days=0, hours=0) -> datetime:
    return when + timedelta(days=days, hours=hours)
