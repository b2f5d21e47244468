"""The client's IP address, trusting only as many proxy hops as TRUSTED_PROXY_COUNT says.

Every proxy appends the address it received the connection from to X-Forwarded-For,
so behind N trusted proxies the client is the Nth entry from the right; whatever
stands further left was written by the client and proves nothing. With no trusted
proxy, every forwarding header is the client's own words: only REMOTE_ADDR counts.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from ipware import get_client_ip

FORWARDED_FOR = ("HTTP_X_FORWARDED_FOR",)


def client_ip(request) -> str | None:
    remote_addr = request.META.get("REMOTE_ADDR") or None
    count = getattr(settings, "IPWARE_TRUSTED_PROXY_COUNT", 0) or 0
    if count <= 0:
        return remote_addr
    # ipware counts the nearest proxy as a chain entry (it picks chain[-(count + 1)]),
    # whereas that proxy's address is REMOTE_ADDR, not part of the header: hence
    # count - 1. Only X-Forwarded-For is read: ipware's default list also trusts
    # X-Real-IP, Client-IP and the like, which a client can send as it pleases.
    # Non-strict: an unparseable entry the client wrote on the left is skipped, not a
    # reason to fall back to the proxy's own address (which every client shares).
    # A chain shorter than `count` (a request that skipped a proxy) gives REMOTE_ADDR.
    ip, _routable = get_client_ip(
        request,
        proxy_count=count - 1,
        request_header_order=FORWARDED_FOR,
        strict=False,
    )
    return ip or remote_addr


def is_web_url(url: str) -> bool:
    """An absolute http(s) URL with a host: never `javascript:`, `data:` or a scheme-relative
    `//evil.example` that a browser would complete with the page's own scheme."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.hostname)
