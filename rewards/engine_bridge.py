"""The calls rewards makes into programs (the rule engine) and tracking (the facts), in one
place. Each goes through its documented name (docs/architecture.md); the fallbacks below are
used only while that name does not exist yet."""

from __future__ import annotations

import dataclasses
import importlib

from programs.engine.types import EventFact, ParticipantFact, ReferralFacts


def find(module: str, name: str):
    try:
        return getattr(importlib.import_module(module), name, None)
    except ImportError:
        return None


def _participant_fact(p) -> ParticipantFact:
    return ParticipantFact(
        id=p.pk, attributes=dict(p.attributes or {}), segments=tuple(p.segments or ())
    )


def referral_facts_fallback(referral) -> ReferralFacts:
    """Facts built by rewards while `tracking.selectors.referral_facts` is missing."""
    from tracking.models import Event

    events = Event.unscoped.filter(tenant_id=referral.tenant_id, participant_id=referral.referee_id)
    fraud_decision = "approve"
    assessment_model = find("fraud.models", "Assessment")
    if assessment_model is not None:
        latest = assessment_model.unscoped.filter(referral_id=referral.pk).order_by("-id").first()
        if latest is not None:
            fraud_decision = latest.decision
    return ReferralFacts(
        referral_id=referral.pk,
        created_at=referral.created_at,
        referrer=_participant_fact(referral.referrer),
        referee=_participant_fact(referral.referee),
        events=tuple(
            EventFact(
                id=e.pk,
                type=e.type,
                occurred_at=e.occurred_at,
                amount_minor=e.amount_minor,
                currency=e.currency,
                order_id=e.order_id,
                properties=dict((e.payload or {}).get("properties") or {}),
            )
            for e in events.order_by("occurred_at", "id")
        ),
        status=referral.status,
        fraud_decision=fraud_decision,
    )


def referral_facts(referral) -> ReferralFacts:
    from referral_platform.tenancy.scoping import tenant_context

    func = find("tracking.selectors", "referral_facts")
    if func is None:
        return referral_facts_fallback(referral)
    # Tracking's selector reads through the scoped managers.
    with tenant_context(referral.tenant):
        return func(referral)


def referral_spec(referral) -> dict:
    """The spec the engine evaluates `referral` under: its program version's, as its
    experiment variants make it (`tracking.selectors.referral_spec`)."""
    from tracking.selectors import referral_spec as spec_of

    return spec_of(referral)


def with_reward_facts(facts: ReferralFacts, **values) -> ReferralFacts:
    """Fill the facts rewards owns, skipping any the engine's types do not (yet) declare."""
    known = {f.name for f in dataclasses.fields(facts)}
    return dataclasses.replace(facts, **{k: v for k, v in values.items() if k in known})


def evaluate_rewards(spec: dict, facts: ReferralFacts, now, cal) -> list:
    func = find("programs.engine", "evaluate_rewards")
    if func is None:
        return []
    return list(func(spec, facts, now, cal))


def evaluate_stages(spec: dict, facts: ReferralFacts, now, cal) -> list | None:
    """The engine's stage decisions, or None while it cannot say (never "nothing reached")."""
    func = find("programs.engine", "evaluate_stages")
    if func is None:
        return None
    return list(func(spec, facts, now, cal))
