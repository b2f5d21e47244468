"""What a marketer is told before a program changes state or rules: the launch checklist
and what an edit of a live program changes for referrals already in flight. Pure."""

from __future__ import annotations

from datetime import datetime

from django.utils.translation import gettext as _

from .engine.estimate import default_stage_rates, estimate_cost
from .engine.rewards import money, parse_dt
from .spec import validate_spec
from .spec.diff import spec_diff

# Monthly volume the launch checklist prices the program at.
LAUNCH_MONTHLY_REFERRALS = 100


def launch_checklist(spec: dict, *, now: datetime) -> dict:
    """`missing` (worth doing first), `conflicts` (activation would misbehave), and the
    estimated monthly cost against the budget."""
    missing: list[str] = []
    conflicts: list[str] = []
    items = [i for s in spec["stages"] for i in s.get("rewards") or ()]
    if not any(i.get("side") == "referrer" for i in items):
        missing.append(_("No stage gives the referrer a reward."))
    if not any(i.get("side") == "referee" for i in items):
        missing.append(_("No stage gives the friend a reward."))
    if not (spec.get("offer") or {}).get("headline"):
        missing.append(_("The friend's offer has no headline."))
    if not spec.get("landing_url"):
        missing.append(_("No landing URL: links open the invite page only."))
    if not spec.get("share_copy"):
        missing.append(_("No share texts."))
    if spec.get("budget") is None:
        missing.append(_("No budget: rewards are never stopped by cost."))
    for problem in validate_spec(spec):
        conflicts.append(f"{problem.path}: {problem.message}")
    starts, ends = parse_dt(spec.get("starts_at")), parse_dt(spec.get("ends_at"))
    if ends and ends <= now:
        conflicts.append(_("The program ends before it would start: its end is in the past."))
    if starts and ends and ends <= starts:
        conflicts.append(_("The end is before the start."))
    for boost in spec.get("boosts") or ():
        b_end = parse_dt(boost.get("ends_at"))
        if ends and parse_dt(boost.get("starts_at")) and parse_dt(boost["starts_at"]) >= ends:
            conflicts.append(
                _("Boost “%(b)s” starts after the program ends.") % {"b": boost["key"]}
            )
        elif b_end and starts and b_end <= starts:
            conflicts.append(
                _("Boost “%(b)s” ends before the program starts.") % {"b": boost["key"]}
            )
    estimate = estimate_cost(
        spec, monthly_referrals=LAUNCH_MONTHLY_REFERRALS, stage_rates=default_stage_rates(spec)
    )
    monthly, budget = estimate["monthly_cost"], spec.get("budget")
    months = budget // monthly if budget is not None and monthly else None
    if budget is not None and monthly > budget:
        conflicts.append(
            _("The estimated monthly cost %(cost)s is more than the whole budget %(budget)s.")
            % {"cost": money(monthly, spec["currency"]), "budget": money(budget, spec["currency"])}
        )
    return {
        "missing": missing,
        "conflicts": conflicts,
        "monthly_referrals": LAUNCH_MONTHLY_REFERRALS,
        "monthly_cost": money(monthly, spec["currency"]),
        "budget": money(budget, spec["currency"]) if budget is not None else None,
        "budget_months": months,
    }


# Top-level sections whose change reaches referrals already in flight: tier, ladder, season,
# lottery, team, points and charity items use the version in force when they are reached or
# closed, and caps and the budget are counted at grant time (SEMANTICS §5 Versions).
REACHES_IN_FLIGHT = {
    "tiers", "season", "lottery", "team", "points", "charity", "ambassador", "caps",
    "budget", "surprise", "status", "ends_at",
}  # fmt: skip


def _top(path: str) -> str:
    return path.split(".", 1)[0].split("[", 1)[0]


def change_impact(old: dict, new: dict) -> list[dict]:
    """Each change with who it reaches: `new_referrals` (stages, eligibility, attribution,
    boosts: fixed when a referral is created) or `everyone` (reached or closed later)."""
    return [
        {
            "path": change.path,
            "old_text": change.old_text,
            "new_text": change.new_text,
            "reaches": "everyone" if _top(change.path) in REACHES_IN_FLIGHT else "new_referrals",
        }
        for change in spec_diff(old, new)
    ]
