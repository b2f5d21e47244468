"""The three archetype programs of SCENARIOS.md, with its defaults table applied.

Each is a function of the year its dated windows (boosts, campaigns) fall in, so the
demo seeds the current year and tests pin one. `ARCHETYPES` maps the demo slug to it.
"""

from __future__ import annotations

from collections.abc import Callable

from .green_home import green_home_spec
from .saas_b2b import saas_b2b_spec
from .study_together import study_together_spec

ARCHETYPES: dict[str, Callable[..., dict]] = {
    "saas-b2b": saas_b2b_spec,
    "green-home": green_home_spec,
    "study-together": study_together_spec,
}


def blank_spec(
    *, slug: str = "new-program", name: str = "New program", currency: str = "CNY"
) -> dict:
    return {
        "spec_version": 1,
        "slug": slug,
        "name": name,
        "status": "draft",
        "currency": currency,
        "stages": [
            {
                "key": "paid",
                "label": "First purchase",
                "status": "converted",
                "success": True,
                "condition": {"event": "purchase"},
                "rewards": [],
            }
        ],
    }
