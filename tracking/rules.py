"""The calls tracking makes into programs, fraud and rewards, in one place.

Those apps are built beside this one; each call goes through its documented name
(docs/architecture.md) and falls back to a neutral answer only while that name does
not exist yet, so tracking keeps working on its own.
"""

from __future__ import annotations

import importlib
from datetime import datetime

DEFAULT_ATTRIBUTION = {
    "window_days": 30,
    "model": "last",
    "priority": ["link", ["qr", "code"], "claim", "identity"],
    "assist_window_days": None,
}


def _find(module: str, name: str):
    try:
        return getattr(importlib.import_module(module), name, None)
    except ImportError:
        return None


def attribution_settings(spec: dict) -> dict:
    func = _find("programs.engine", "attribution_settings")
    settings = dict(func(spec)) if func is not None else dict(spec.get("attribution") or {})
    merged = {**DEFAULT_ATTRIBUTION, **{k: v for k, v in settings.items() if v is not None}}
    if "assist_window_days" in settings:
        merged["assist_window_days"] = settings["assist_window_days"]
    return merged


def eligibility(spec: dict, participant_fact, side: str = "referrer") -> list[str]:
    from referral_platform.core import clock

    func = _find("programs.engine", "eligibility")
    if func is None:
        return []
    return list(func(spec, participant_fact, side, clock.now()))


def evaluate_stages(spec: dict, facts, now: datetime, cal) -> list:
    func = _find("programs.engine", "evaluate_stages")
    if func is None:
        return []
    return list(func(spec, facts, now, cal))


def program_get(tenant, slug: str):
    from programs.models import Program
    from referral_platform.core.errors import NotFound

    func = _find("programs.selectors", "program_get")
    if func is not None:
        return func(tenant, slug)
    program = Program.objects.for_tenant(tenant).filter(slug=slug).first()
    if program is None:
        raise NotFound("No such program.")
    return program


def fraud_assess(*, referral, stage_key: str):
    func = _find("fraud.services", "assessment_run")
    return func(referral=referral, stage_key=stage_key) if func is not None else None


def rewards_sync(*, referral) -> None:
    func = _find("rewards.services", "referral_rewards_sync")
    if func is not None:
        func(referral=referral)


def refund_apply(*, referral, event) -> None:
    func = _find("rewards.services", "refund_apply")
    if func is not None:
        func(referral=referral, event=event)


def webhook_emit(*, tenant, type: str, data: dict) -> None:
    func = _find("referral_platform.webhooks.services", "webhook_emit")
    if func is not None:
        func(tenant=tenant, type=type, data=data)


def referral_notify(*, referral) -> None:
    func = _find("rewards.services", "referral_notify")
    if func is not None:
        func(referral=referral)
