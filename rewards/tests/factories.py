"""Plain builders for rewards tests: every child row inherits its parent's tenant."""

from __future__ import annotations

import itertools
from datetime import datetime

from fraud.models import Assessment
from programs.engine.types import RewardDecision
from programs.models import Program, ProgramVersion
from tracking.models import Event, Participant, Referral

_seq = itertools.count(1)

SPEC = {
    "slug": "prog",
    "name": "Prog",
    "currency": "CNY",
    "clawback_days": 0,
    "charity": {"key": "give", "amount": 5000},
    "stages": [
        {
            "key": "mql",
            "status": "qualified",
            "condition": {"event": "qualified_lead"},
            "rewards": [{"key": "mql-cash", "kind": "cash", "amount": 5000}],
        },
        {
            "key": "paid",
            "status": "converted",
            "success": True,
            "condition": {"event": "purchase", "min_amount": 9900},
            "hold": {"days": 7},
            "rewards": [
                {"key": "paid-points", "kind": "points", "points": 300},
                {"key": "paid-coupon", "kind": "coupon", "amount": 2500},
            ],
        },
    ],
}


def program(tenant, spec=None, slug="prog") -> Program:
    p = Program.unscoped.create(
        tenant=tenant, slug=slug, name=slug.title(), currency="CNY", status="active"
    )
    v = ProgramVersion.unscoped.create(
        tenant=tenant, program=p, number=1, spec=spec or {**SPEC, "slug": slug}
    )
    p.current_version = v
    p.save(update_fields=["current_version"])
    return p


def participant(tenant, external_id=None, **kw) -> Participant:
    return Participant.unscoped.create(
        tenant=tenant, external_id=external_id or f"p{next(_seq)}", **kw
    )


def referral(
    tenant, prog, referrer=None, referee=None, created_at=None, status="pending"
) -> Referral:
    created_at = created_at or datetime.fromisoformat("2026-03-01T00:00:00+00:00")
    ref = Referral.unscoped.create(
        tenant=tenant,
        program=prog,
        program_version=prog.current_version,
        referrer=referrer or participant(tenant),
        referee=referee or participant(tenant),
        source="link",
        created_at=created_at,
        status_changed_at=created_at,
        status=status,
    )
    # Scored at sign-up and cleared, as every referral the flow creates is: without an
    # assessment the rules hold its cash for review (fail closed).
    Assessment.unscoped.create(
        tenant=tenant, referral=ref, stage_key="signup", score=0, decision="approve"
    )
    return ref


def event(tenant, who, type, occurred_at, amount_minor=None, order_id="o1") -> Event:
    n = next(_seq)
    return Event.unscoped.create(
        tenant=tenant,
        event_id=f"e{n}",
        type=type,
        occurred_at=occurred_at,
        participant=who,
        external_id=who.external_id,
        order_id=order_id,
        amount_minor=amount_minor,
        currency="CNY" if amount_minor is not None else "",
        payload={},
        body_hash=f"h{n}",
    )


def decision(
    beneficiary,
    scope,
    rule_key,
    kind="points",
    *,
    reason=None,
    amount_minor=None,
    points=None,
    due_at=None,
    status="pending",
    side="referrer",
    cap_slot=None,
    options=(),
    details=None,
    choice_deadline=None,
    blocked_reason="",
    hold_reason="hold",
) -> RewardDecision:
    return RewardDecision(
        beneficiary_id=beneficiary.pk,
        side=side,
        scope=scope,
        reason=reason or f"stage:{rule_key}",
        rule_key=rule_key,
        kind=kind,
        amount_minor=amount_minor,
        currency="CNY" if amount_minor is not None else "",
        points=points,
        description=rule_key,
        status=status,
        due_at=due_at,
        hold_reason=hold_reason,
        blocked_reason=blocked_reason,
        options=tuple(options),
        details=details or {},
        choice_deadline=choice_deadline,
        cap_slot=cap_slot,
    )
