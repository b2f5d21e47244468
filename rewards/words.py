"""The words for a reward's value, as a participant reads them (emails, the portal): pure,
from the row's amount, in the active language."""

from __future__ import annotations

from collections.abc import Mapping

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from referral_platform.core.money import format_minor


def reward_value_text(
    *,
    kind: str,
    amount_minor,
    currency: str,
    points,
    description: str,
    details: Mapping | None = None,
    points_name: str = "",
) -> str:
    """The value itself, from the row's amount (boosts included), never from its label: cash
    and credit in the currency's major unit, coupon terms, points, tickets, the charity gift.
    The rule's description is for `reward_label`, beside it."""
    details = details or {}
    money = format_minor(amount_minor, currency) if amount_minor is not None else ""
    if kind == "coupon":
        if details.get("percent_off") is not None:
            text = _("%(p)s%% off") % {"p": details["percent_off"]}
            if details.get("max_amount"):
                text = _("%(p)s%% off, up to %(max)s") % {
                    "p": details["percent_off"],
                    "max": format_minor(int(details["max_amount"]), currency),
                }
        elif money:
            text = _("%(amount)s off") % {"amount": money}
        else:
            return description
        if details.get("min_spend"):
            text = _("%(offer)s on orders of %(min)s or more") % {
                "offer": text,
                "min": format_minor(int(details["min_spend"]), currency),
            }
        return text
    if kind == "cash" and money:
        return _("%(amount)s cash") % {"amount": money}
    if kind == "credit" and money:
        return _("%(amount)s credit") % {"amount": money}
    if kind == "donation" and money:
        return _("%(amount)s donated") % {"amount": money}
    if kind == "lottery_ticket" and points:
        return ngettext("%(n)d lottery ticket", "%(n)d lottery tickets", points) % {"n": points}
    if points and points_name:
        return f"{points} {points_name}"
    if points:
        return ngettext("%(n)d point", "%(n)d points", points) % {"n": points}
    if money:
        return money
    return description


def reward_words(reward) -> str:
    """`reward_value_text` of a reward row."""
    return reward_value_text(
        kind=reward.kind,
        amount_minor=reward.amount_minor,
        currency=reward.currency,
        points=reward.points,
        description=reward.description,
        details=reward.details,
    )
