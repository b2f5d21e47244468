"""A per-IP limiter for public forms and pages: 429 with Retry-After and a friendly page.

    @limit_per_ip(rate="10/m", group="invite_signup", method="POST")
    def invite_signup(request, code): ...

Counts live in the default cache (Redis in production, so they hold across processes).
The IP comes from `client_ip`, which trusts only TRUSTED_PROXY_COUNT proxy hops.
"""

from __future__ import annotations

from functools import wraps

from django.shortcuts import render
from django_ratelimit.core import get_usage

from .net import client_ip

ALL_METHODS = None


def _ip_key(group, request) -> str:
    return client_ip(request) or "unknown"


def too_many_requests(request, retry_after: int = 60):
    """The friendly 429 page; also the root `handler429` allauth uses for login limits."""
    response = render(request, "429.html", {"retry_after": retry_after}, status=429)
    response["Retry-After"] = str(max(int(retry_after), 1))
    return response


def ip_limit_wait(request, *, group: str, rate: str) -> int | None:
    """Counts this request; None when allowed, else the seconds to wait. For views that
    answer the 429 themselves (a form re-rendered with what the visitor typed)."""
    usage = get_usage(request, group=group, key=_ip_key, rate=rate, increment=True)
    if usage is not None and usage["should_limit"]:
        return max(int(usage.get("time_left") or 60), 1)
    return None


def check_ip_limit(request, *, group: str, rate: str):
    """None when allowed, else the 429 response (counts this request). For inline use."""
    wait = ip_limit_wait(request, group=group, rate=rate)
    if wait is not None:
        return too_many_requests(request, retry_after=wait)
    return None


def limit_per_ip(*, rate: str, group: str, method: str | tuple | None = ALL_METHODS):
    """Decorate a view: past `rate` ("10/m", "100/h") per client IP, answer 429."""

    def decorate(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            methods = method
            if isinstance(methods, str):
                methods = (methods,)
            if methods is None or request.method in methods:
                limited = check_ip_limit(request, group=group, rate=rate)
                if limited is not None:
                    return limited
            return view(request, *args, **kwargs)

        return wrapper

    return decorate
