"""Staff pages: the referrals list with filters (one referral's whole story, with fraud's and
rewards' parts, is `backoffice.views.referral_detail`)."""

from __future__ import annotations

from datetime import date

from django.core.paginator import Paginator
from django.shortcuts import render

from programs.selectors import program_list
from referral_platform.core.calendar import date_range_bounds
from referral_platform.tenancy.permissions import tenant_required

from . import selectors
from .models import AttributionSource, ReferralStatus


def _date(value: str) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


@tenant_required()
def referral_list(request):
    tenant = request.tenant
    params = request.GET
    filters = {k: params.get(k, "") for k in ("program", "status", "source")}
    start, end = _date(params.get("from", "")), _date(params.get("to", ""))
    if start or end:
        lower, upper = date_range_bounds(
            start or date(1970, 1, 1), end or date(9998, 12, 31), tenant.calendar
        )
        filters["created_after"], filters["created_before"] = lower, upper
    qs = selectors.referral_list(tenant=tenant, filters=filters).order_by("-created_at", "-pk")
    page = Paginator(qs, 50).get_page(params.get("page"))
    return render(
        request,
        "tracking/referral_list.html",
        {
            "page": page,
            "programs": program_list(tenant),
            "statuses": ReferralStatus.choices,
            "sources": AttributionSource.choices,
            "current": {
                **{k: params.get(k, "") for k in ("program", "status", "source", "from", "to")}
            },
        },
    )
