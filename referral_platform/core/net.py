"""The client's IP address, trusting only as many proxy hops as TRUSTED_PROXY_COUNT says."""

from __future__ import annotations

from django.conf import settings
from ipware import get_client_ip


def client_ip(request) -> str | None:
    count = getattr(settings, "IPWARE_TRUSTED_PROXY_COUNT", 0)
    ip, _routable = get_client_ip(request, proxy_count=count or None)
    return ip or request.META.get("REMOTE_ADDR") or None
