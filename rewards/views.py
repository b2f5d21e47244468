"""Staff pages for rewards, payouts, coupon pools and charity; the public unsubscribe page."""

from __future__ import annotations

from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from .notifications import unsubscribe_token_read


@require_http_methods(["GET", "POST"])
def unsubscribe(request, token: str):
    from .services import notifications_opt_out

    parsed = unsubscribe_token_read(token)
    if parsed is None:
        return render(request, "rewards/unsubscribe.html", {"invalid": True}, status=404)
    done = False
    if request.method == "POST":
        notifications_opt_out(tenant_id=parsed[0], participant_id=parsed[1])
        done = True
    return render(request, "rewards/unsubscribe.html", {"done": done, "token": token})
