"""The builder's simulator: a typed script of events for an imaginary referrer and referees,
run through the rule engine exactly as rewards would (one referral after another, each told
the cap slots the earlier ones hold). Pure: no database, no clock."""

from __future__ import annotations

import copy
import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _

from referral_platform.core.calendar import TenantCalendar
from referral_platform.core.forms import too_many_decimals
from referral_platform.core.money import exponent, to_minor

from .engine import (
    CountedFact,
    EventFact,
    ParticipantFact,
    ReferralFacts,
    RewardDecision,
    evaluate_rewards,
    evaluate_stages,
    evaluate_tiers,
)
from .engine.estimate import decision_cost
from .engine.rewards import money

EVENT_TYPES = ("signup", "qualified_lead", "purchase", "refund", "activity", "share")


@dataclass(frozen=True)
class ScriptLine:
    referee: str
    day: int
    type: str
    amount_minor: int | None
    properties: dict = field(default_factory=dict)


@dataclass
class SimRow:
    referee: str
    decision: RewardDecision


@dataclass
class SimResult:
    rows: list[SimRow]
    totals: dict
    as_of: datetime


def _scalar(text: str):
    try:
        return json.loads(text)
    except ValueError:
        return text


def parse_script(text: str, currency: str = "CNY") -> tuple[list[ScriptLine], list[str]]:
    """Lines like `anna 3 purchase 120 billing_period=annual`: an optional referee name, the
    day (from the start), the event type, an optional amount in `currency`'s major unit
    (120 → 12000 fen), properties."""
    lines, errors = [], []
    for number, raw in enumerate(text.splitlines(), start=1):
        tokens = raw.split()
        if not tokens or tokens[0].startswith("#"):
            continue
        referee = "friend"
        if not tokens[0].lstrip("-").isdigit():
            referee = tokens.pop(0)
        if len(tokens) < 2 or not tokens[0].isdigit() or tokens[1] not in EVENT_TYPES:
            errors.append(
                _("Line %(n)s: write “[friend] day type [amount] [key=value …]”.") % {"n": number}
            )
            continue
        day, type_, rest = int(tokens[0]), tokens[1], tokens[2:]
        amount = None
        if rest and "=" not in rest[0]:
            try:
                amount = to_minor(Decimal(rest.pop(0)), currency)
            except InvalidOperation:
                errors.append(_("Line %(n)s: the amount must be a number.") % {"n": number})
                continue
            except ValueError:
                problem = " ".join(too_many_decimals(exponent(currency)).messages)
                errors.append(_("Line %(n)s: %(problem)s") % {"n": number, "problem": problem})
                continue
        properties = {}
        for token in rest:
            key, _sep, value = token.partition("=")
            properties[key] = _scalar(value)
        lines.append(ScriptLine(referee, day, type_, amount, properties))
    return lines, errors


def simulate(
    spec: dict,
    lines: list[ScriptLine],
    *,
    start: datetime,
    cal: TenantCalendar,
    referrer_attributes: dict | None = None,
    assume_eligible: bool = True,
) -> SimResult:
    spec = copy.deepcopy(spec)
    if assume_eligible:
        spec.pop("eligibility", None)
    referrer = ParticipantFact(1, referrer_attributes or {})
    referees: dict[str, list[EventFact]] = {}
    for index, line in enumerate(lines, start=1):
        referees.setdefault(line.referee, []).append(
            EventFact(
                id=index,
                type=line.type,
                occurred_at=start + timedelta(days=line.day),
                amount_minor=line.amount_minor,
                currency=spec["currency"],
                order_id=f"{line.referee}-order",
                properties=line.properties,
            )  # fmt: skip
        )
    last_day = max((line.day for line in lines), default=0)
    # Far enough after the last event for every hold (retention is 90 days) to have ended.
    as_of = start + timedelta(days=last_day + 120)
    held: Counter = Counter()
    rows: list[SimRow] = []
    counted: list[CountedFact] = []
    for referral_id, (name, events) in enumerate(referees.items(), start=1):
        signup = next((e for e in events if e.type == "signup"), events[0])
        facts = ReferralFacts(
            referral_id=referral_id, created_at=signup.occurred_at, referrer=referrer,
            referee=ParticipantFact(100 + referral_id, {}), events=tuple(events), slots_used=dict(held),
            referrer_successes_before=sum(1 for c in counted if c.success),
            fraud_decision="approve",  # the simulation's traffic is honest
        )  # fmt: skip
        decisions = evaluate_rewards(spec, facts, as_of, cal)
        for slot in {d.cap_slot for d in decisions if d.cap_slot and d.status == "pending"}:
            held[slot] += 1
        rows.extend(SimRow(name, d) for d in decisions)
        for stage in evaluate_stages(spec, facts, as_of, cal):
            if not stage.reversed:
                counted.append(
                    CountedFact(
                        referral_id, stage.stage_key, stage.occurred_at, stage.due_at, stage.success
                    )
                )
    rows.extend(SimRow("—", d) for d in evaluate_tiers(spec, referrer, counted, as_of, cal))
    rows.sort(key=lambda r: (r.decision.due_at or as_of, r.referee))
    totals = {}
    expected = {"referrer": 0, "referee": 0}
    for row in rows:
        if row.decision.status == "pending" and row.decision.scope.startswith("referral:"):
            expected[row.decision.side] += decision_cost(row.decision, spec)
    for side in ("referrer", "referee"):
        paid = [
            r.decision for r in rows if r.decision.side == side and r.decision.status == "pending"
        ]
        amount = sum(d.amount_minor or 0 for d in paid if d.kind != "donation")
        totals[side] = {
            "amount": money(amount, spec["currency"]),
            "points": sum(d.points or 0 for d in paid if d.kind == "points"),
            "items": len(paid),
            "expected_cost_minor": expected[side],
            "expected_cost": money(expected[side], spec["currency"]),
        }
    return SimResult(rows=rows, totals=totals, as_of=as_of)
