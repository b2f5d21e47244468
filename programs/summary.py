"""The plain-language summary of a spec ("Your customer earns ¥50 when…"). Pure."""

from __future__ import annotations

from django.utils.dates import MONTHS
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

# An event as the thing that happens ("a refund or an activity … takes its rewards back").
EVENT_NOUN = {
    "signup": gettext_lazy("a sign-up"),
    "qualified_lead": gettext_lazy("a qualified-lead event"),
    "purchase": gettext_lazy("a purchase"),
    "refund": gettext_lazy("a refund"),
    "activity": gettext_lazy("an activity"),
    "share": gettext_lazy("a share"),
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


def _value_text(values: dict, currency: str) -> str:
    """The value with its amounts (“¥20.00 coupon, min. spend ¥99.00, valid 30 days”), and
    the marketer's description after it when it says something else."""
    value = describe_value(values, currency)
    details = []
    if values.get("min_spend"):
        details.append(_("min. spend %(m)s") % {"m": money(values["min_spend"], currency)})
    if values.get("valid_days"):
        days = values["valid_days"]
        details.append(ngettext("valid %(d)s day", "valid %(d)s days", days) % {"d": days})
    if values.get("duration_days"):
        days = values["duration_days"]
        details.append(ngettext("%(d)s day", "%(d)s days", days) % {"d": days})
    if values.get("estimated_value") and values.get("amount") is None:
        details.append(_("worth about %(m)s") % {"m": money(values["estimated_value"], currency)})
    text = ", ".join([value, *details])
    description = values.get("description")
    if description and description != value:
        text += f" (“{description}”)"
    return text


def _option_name(item: dict) -> str:
    """The default option by its description, as the customer chooses it (its key else)."""
    key = item.get("default_option")
    option = next((o for o in item["options"] if o.get("key") == key), {})
    return option.get("description") or str(key)


def _item_text(item: dict, currency: str) -> str:
    if item.get("options"):
        return (
            _(" or ").join(_value_text(o, currency) for o in item["options"])
            + " "
            + _("(default: %(d)s)") % {"d": _option_name(item)}
        )
    return _value_text(item, currency)


OP_TEXT = {
    "eq": "=", "ne": "≠", "gt": ">", "gte": "≥", "lt": "<", "lte": "≤",
    "in": gettext_lazy("is one of"), "not_in": gettext_lazy("is none of"),
}  # fmt: skip


def describe_condition(cond: dict | None) -> str:
    """A condition tree in words: `nps ≥ 9 or case_study is set`."""
    if not cond:
        return ""
    if "all" in cond:
        return "(" + _(" and ").join(describe_condition(c) for c in cond["all"]) + ")"
    if "any" in cond:
        return "(" + _(" or ").join(describe_condition(c) for c in cond["any"]) + ")"
    if "not" in cond:
        return _("not %(c)s") % {"c": describe_condition(cond["not"])}
    if "segment" in cond:
        return _("in segment “%(s)s”") % {"s": cond["segment"]}
    field, op, value = cond["field"], cond["op"], cond.get("value")
    words = {
        "exists": _("%(f)s is known"),
        "truthy": _("%(f)s is yes"),
        "falsy": _("%(f)s is no"),
        "days_since_gte": _("%(f)s at least %(v)s days ago"),
        "days_since_lte": _("%(f)s at most %(v)s days ago"),
    }
    if op in words:
        return words[op] % {"f": field, "v": value}
    shown = ", ".join(map(str, value)) if isinstance(value, list) else value
    return f"{field} {OP_TEXT.get(op, op)} {shown}"


def _eligibility_lines(spec: dict) -> list[str]:
    lines = []
    eligibility = spec.get("eligibility") or {}
    for side, text in (
        ("referrer", _("Who may refer: %(rule)s.")),
        ("referee", _("Who counts as a new friend: %(rule)s.")),
    ):
        for rule in eligibility.get(side) or ():
            lines.append(text % {"rule": rule.get("label") or describe_condition(rule["when"])})
    if not eligibility.get("referrer"):
        lines.append(_("Every customer may refer."))
    return lines


def _attribution_lines(spec: dict) -> list[str]:
    from .engine.rewards import DEFAULT_PRIORITY

    attribution = spec.get("attribution") or {}
    days = attribution.get("window_days", 30)
    model = attribution.get("model", "last")
    source_text = {
        "link": _("link"), "qr": _("QR code"), "code": _("typed code"),
        "claim": _("claim"), "identity": _("identity match"),
    }  # fmt: skip
    groups = []
    for entry in attribution.get("priority") or DEFAULT_PRIORITY:
        names = entry if isinstance(entry, list) else [entry]
        groups.append(_(" or ").join(str(source_text.get(n, n)) for n in names))
    lines = [
        ngettext(
            "A friend counts for the referrer who shared within %(d)s day before they sign up;",
            "A friend counts for the referrer who shared within %(d)s days before they sign up;",
            days,
        )
        % {"d": days}
        + " "
        + (_("the last touch wins") if model == "last" else _("the first touch wins"))
        + "; "
        + _("strongest first: %(p)s.") % {"p": " > ".join(groups)}
    ]
    if attribution.get("assist_window_days"):
        lines.append(
            _("Other referrers who touched the friend within %(d)s days are credited as assists.")
            % {"d": attribution["assist_window_days"]}
        )
    return lines


def _refund_lines(spec: dict) -> list[str]:
    days = spec.get("clawback_days") or 0
    if days:
        return [
            ngettext(
                "A refund after the hold claws the reward back within %(d)s day.",
                "A refund after the hold claws the reward back within %(d)s days.",
                days,
            )
            % {"d": days}
        ]
    return [_("A refund after the hold takes nothing back.")]


def boost_window_text(boost: dict) -> str:
    yearly = boost.get("every_year")
    if yearly and "month" in yearly:
        return _("every year in %(month)s") % {"month": MONTHS[yearly["month"]]}
    if yearly:
        return _("every year in ISO week %(w)s") % {"w": yearly["iso_week"]}
    if boost.get("first_days"):
        days = boost["first_days"]
        return ngettext("the program's first %(d)s day", "the program's first %(d)s days", days) % {
            "d": days
        }
    return _("from %(s)s to %(e)s") % {
        "s": (boost.get("starts_at") or "")[:10],
        "e": (boost.get("ends_at") or "")[:10],
    }


def summarize(spec: dict) -> list[str]:
    currency = spec["currency"]
    lines: list[str] = [*_eligibility_lines(spec), *_attribution_lines(spec)]
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
        if hold.get("days"):
            days = hold["days"]
            when += " " + ngettext(
                "and it holds for %(d)s day", "and it holds for %(d)s days", days
            ) % {"d": days}
        elif hold.get("business_days"):
            days = hold["business_days"]
            when += " " + ngettext(
                "and it holds for %(d)s business day",
                "and it holds for %(d)s business days",
                days,
            ) % {"d": days}
        for item in stage.get("rewards") or ():
            who = _("Your customer") if item["side"] == "referrer" else _("Their friend")
            line = _("%(who)s earns %(what)s when the friend %(when)s.") % {
                "who": who,
                "what": _item_text(item, currency),
                "when": when,
            }
            if item.get("when"):
                # Paid only when its own condition holds too: never read as unconditional.
                line = (
                    line[:-1] + ", " + _("only if %(c)s.") % {"c": describe_condition(item["when"])}
                )
            lines.append(line)
        if hold.get("days") or hold.get("business_days"):
            undo = [_("a refund")] + [
                str(EVENT_NOUN.get(r["event"], r["event"]))
                + (f" ({describe_condition(r['properties'])})" if r.get("properties") else "")
                for r in stage.get("reverse_on") or ()
            ]
            lines.append(
                _("During the hold of “%(stage)s”, %(what)s takes its rewards back.")
                % {"stage": stage.get("label") or stage["key"], "what": _(" or ").join(undo)}
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
            _("Boost “%(b)s”: %(when)s.")
            % {"b": boost.get("label") or boost["key"], "when": boost_window_text(boost)}
        )
    if spec.get("charity"):
        lines.append(
            _("We donate %(m)s for every success.")
            % {"m": money(spec["charity"]["amount"], currency)}
        )
    lines.extend(_refund_lines(spec))
    season = spec.get("season") or {}
    for prize in season.get("prizes") or ():
        lines.append(
            _("Season rank %(r)s wins %(w)s.")
            % {"r": prize["rank"], "w": _item_text(prize["reward"], currency)}
        )
    held_out = (spec.get("holdout") or {}).get("percent")
    if held_out:
        lines.append(
            _(
                "%(p)s%% of participants are held out to measure the program: they get no "
                "link, offer or reward."
            )
            % {"p": f"{held_out:g}"}
        )
    return lines
