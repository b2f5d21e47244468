"""The plain-language summary of a spec ("Your customer earns ¥50 when…"). Pure."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from .engine.rewards import describe_value, money

EVENT_TEXT = {
    "signup": gettext_lazy("signs up"),
    "qualified_lead": gettext_lazy("becomes a qualified lead"),
    "purchase": gettext_lazy("pays"),
    "refund": gettext_lazy("asks for a refund"),
    "activity": gettext_lazy("is active"),
    "share": gettext_lazy("shares"),
}

# The calendar periods of caps, tiers and seasons (`core.calendar.PERIODS`) in a sentence.
PERIOD_TEXT = {
    "day": gettext_lazy("day"),
    "week": gettext_lazy("week"),
    "month": gettext_lazy("month"),
    "quarter": gettext_lazy("quarter"),
    "year": gettext_lazy("year"),
    "season": gettext_lazy("season"),
    "lifetime": gettext_lazy("lifetime"),
}


def _period(code: str) -> str:
    return str(PERIOD_TEXT.get(code, code))


def _item_text(item: dict, currency: str) -> str:
    if item.get("options"):
        return (
            _(" or ").join(
                o.get("description") or describe_value(o, currency) for o in item["options"]
            )
            + " "
            + _("(default: %(d)s)") % {"d": item.get("default_option")}
        )
    text = item.get("description") or describe_value(item, currency)
    return text


def summarize(spec: dict) -> list[str]:
    currency = spec["currency"]
    lines: list[str] = []
    for stage in spec["stages"]:
        cond = stage["condition"]
        when = str(EVENT_TEXT.get(cond["event"], cond["event"]))
        if cond.get("min_amount"):
            when += " " + _("at least %(m)s") % {"m": money(cond["min_amount"], currency)}
        if cond.get("count", 1) > 1:
            when += " " + _("(%(n)s times)") % {"n": cond["count"]}
        if cond.get("within_days_of_signup") is not None:
            days = cond["within_days_of_signup"]
            when += " " + ngettext(
                "within %(d)s day of signing up", "within %(d)s days of signing up", days
            ) % {"d": days}
        hold = stage.get("hold") or {}
        if hold.get("days") or hold.get("business_days"):
            days = hold.get("days") or hold.get("business_days")
            when += " " + ngettext(
                "and it holds for %(d)s day", "and it holds for %(d)s days", days
            ) % {"d": days}
        for item in stage.get("rewards") or ():
            who = _("Your customer") if item["side"] == "referrer" else _("Their friend")
            lines.append(
                _("%(who)s earns %(what)s when the friend %(when)s.")
                % {"who": who, "what": _item_text(item, currency), "when": when}
            )
        if stage.get("success"):
            lines.append(_("That is the success: caps, tiers and leaderboards count it."))
    for tier in spec.get("tiers") or ():
        counted = (
            _("successes") if tier.get("counts", "success") == "success" else tier["counts"][6:]
        )
        items = ", ".join(_item_text(i, currency) for i in tier["rewards"])
        lines.append(
            _("At %(n)s %(counted)s in a %(period)s: %(items)s (once per %(period)s).")
            % {
                "n": tier["threshold"],
                "counted": counted,
                "period": _period(tier["period"]),
                "items": items,
            }
        )
    for cap in spec.get("caps") or ():
        over = _("honor points only") if cap.get("overflow") == "honor" else _("nothing")
        period = _period(cap["period"])
        if cap.get("measure", "count") == "count":
            text = ngettext(
                "At most %(n)s rewarded referral per %(period)s; beyond that, %(over)s.",
                "At most %(n)s rewarded referrals per %(period)s; beyond that, %(over)s.",
                cap["limit"],
            ) % {"n": cap["limit"], "period": period, "over": over}
        else:
            text = _("At most %(n)s in rewards per %(period)s; beyond that, %(over)s.") % {
                "n": money(cap["limit"], currency),
                "period": period,
                "over": over,
            }
        lines.append(text)
    for boost in spec.get("boosts") or ():
        lines.append(
            _("Boost “%(b)s” from %(s)s to %(e)s.")
            % {
                "b": boost.get("label") or boost["key"],
                "s": boost["starts_at"][:10],
                "e": boost["ends_at"][:10],
            }
        )
    if spec.get("charity"):
        lines.append(
            _("We donate %(m)s for every success.")
            % {"m": money(spec["charity"]["amount"], currency)}
        )
    season = spec.get("season") or {}
    for prize in season.get("prizes") or ():
        lines.append(
            _("Season rank %(r)s wins %(w)s.")
            % {"r": prize["rank"], "w": _item_text(prize["reward"], currency)}
        )
    return lines
