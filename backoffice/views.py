"""Staff pages that show one thing with every app's part of it (the participants pages are in
`participants.py`)."""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import render

from referral_platform.core.errors import NotFound
from referral_platform.tenancy.permissions import tenant_required
from rewards import selectors as rewards_selectors
from tracking import selectors as tracking_selectors

from . import selectors


@tenant_required()
def referral_detail(request, referral_id: int):
    try:
        referral = tracking_selectors.referral_get(tenant=request.tenant, referral_id=referral_id)
    except NotFound:
        raise Http404 from None
    story = selectors.referral_story(referral)
    return render(
        request,
        "backoffice/referral_detail.html",
        {
            "referral": referral,
            "evidence": referral.evidence or {},
            "timeline": selectors.referral_timeline(referral, story),
            "reward_rows": rewards_selectors.referral_reward_rows(
                referral=referral, rewards=story["rewards"]
            ),
            **story,
        },
    )
