"""SSRF guard: an endpoint may only resolve to global addresses (API.md), unless
`WEBHOOKS_ALLOW_PRIVATE` says otherwise (local development, tests with a local receiver)."""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext as _

from referral_platform.core.errors import ValidationFailed


def address_allowed(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    # `is_global` is False for loopback, RFC 1918, link-local, CGNAT (100.64/10),
    # documentation and reserved ranges alike; multicast is global but never a server.
    return ip.is_global and not ip.is_multicast


def resolve(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return sorted({info[4][0] for info in infos})


def check_url(url: str, *, field: str = "url") -> None:
    """Raise ValidationFailed unless `url` is http(s) and every address it resolves to is
    allowed. Called at registration and again before every send (DNS can change)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationFailed(
            _("Use an http or https URL."), fields={field: [_("Use an http or https URL.")]}
        )
    if getattr(settings, "WEBHOOKS_ALLOW_PRIVATE", False):
        return
    try:
        addresses = resolve(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80))
    except (socket.gaierror, UnicodeError):
        msg = _("The host name does not resolve.")
        raise ValidationFailed(msg, fields={field: [msg]}) from None
    if not addresses or not all(address_allowed(a) for a in addresses):
        msg = _("The URL resolves to a private, loopback or otherwise non-public address.")
        raise ValidationFailed(msg, code="url_not_public", fields={field: [msg]})
