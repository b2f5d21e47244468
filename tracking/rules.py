"""What tracking reads from the program's rules (programs.engine), with tracking's own
defaults: the attribution settings a program leaves out, and eligibility as of now."""

from __future__ import annotations

from programs import engine
from programs.selectors import program_get  # noqa: F401 - tracking's views read it from here
from referral_platform.core import clock

DEFAULT_ATTRIBUTION = {
    "window_days": 30,
    "model": "last",
    "priority": ["link", ["qr", "code"], "claim", "identity"],
    "assist_window_days": None,
}


def attribution_settings(spec: dict) -> dict:
    settings = dict(engine.attribution_settings(spec))
    merged = {**DEFAULT_ATTRIBUTION, **{k: v for k, v in settings.items() if v is not None}}
    if "assist_window_days" in settings:
        merged["assist_window_days"] = settings["assist_window_days"]
    return merged


def eligibility(spec: dict, participant_fact, side: str = "referrer") -> list[str]:
    return list(engine.eligibility(spec, participant_fact, side, clock.now()))
