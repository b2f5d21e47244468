"""Small helpers for the staff layout: active navigation and money formatting."""

from __future__ import annotations

from django import template

from referral_platform.core.money import format_minor

register = template.Library()


@register.simple_tag(takes_context=True)
def nav_active(context, *prefixes: str) -> str:
    """`active` when the current path starts with one of `prefixes` (for nav links)."""
    request = context.get("request")
    path = getattr(request, "path", "") or ""
    return "active" if any(path.startswith(p) for p in prefixes) else ""


@register.filter
def money(amount_minor, currency: str = "") -> str:
    """`{{ reward.amount_minor|money:reward.currency }}` → `¥150.00`."""
    return format_minor(amount_minor, currency)


@register.filter
def money_full(amount_minor, currency: str = "") -> str:
    """Like `money` with the currency's decimals always shown: `¥150.00`."""
    return format_minor(amount_minor, currency, decimals=True)
