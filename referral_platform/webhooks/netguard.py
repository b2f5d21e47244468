"""SSRF guard: an endpoint may only resolve to global addresses (API.md), unless
`WEBHOOKS_ALLOW_PRIVATE` says otherwise (local development, tests with a local receiver).

The host is resolved once per send and the connection goes to the addresses that were
checked (`transport.post(..., addresses=...)`): a second lookup at connect time would let
a rebinding DNS server answer a public address to the check and 127.0.0.1 to the socket.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext as _

from referral_platform.core.errors import ValidationFailed

# IPv6 ranges whose last 32 bits are an IPv4 address that a translator or tunnel reaches:
# NAT64 (RFC 6052), IPv4-compatible (deprecated, RFC 4291), IPv4-mapped and the SIIT
# "IPv4-translated" form (RFC 2765). 6to4 (2002::/16) carries it in bits 16-48 instead.
_TAIL_EMBEDS_IPV4 = tuple(
    ipaddress.ip_network(n) for n in ("64:ff9b::/96", "::/96", "::ffff:0:0/96", "::ffff:0:0:0/96")
)
# Local-use NAT64 prefixes (RFC 8215) place the IPv4 address at a length of the operator's
# choosing: nothing behind them is public.
_NEVER = (ipaddress.ip_network("64:ff9b:1::/48"),)


def embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address wraps (NAT64, 6to4, compatible, mapped, SIIT)."""
    if ip.sixtofour is not None:
        return ip.sixtofour
    if any(ip in net for net in _TAIL_EMBEDS_IPV4):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def _ipv4_allowed(ip: ipaddress.IPv4Address) -> bool:
    # `is_global` is False for loopback, RFC 1918, link-local, CGNAT (100.64/10),
    # documentation and reserved ranges alike; multicast is global but never a server.
    return ip.is_global and not ip.is_multicast


def address_allowed(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv4Address):
        return _ipv4_allowed(ip)
    if any(ip in net for net in _NEVER):
        return False
    inner = embedded_ipv4(ip)
    if inner is not None:
        # Judged by where it leads: a wrapped private or loopback IPv4 address is refused
        # whatever Python's tables say about the IPv6 prefix around it.
        return _ipv4_allowed(inner)
    return ip.is_global and not ip.is_multicast


def resolve(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return sorted({info[4][0] for info in infos})


def _http_url(url: str, field: str):
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = -1
    if parts.scheme not in ("http", "https") or not parts.hostname or port == -1:
        raise ValidationFailed(
            _("Use an http or https URL."), fields={field: [_("Use an http or https URL.")]}
        )
    return parts, port or (443 if parts.scheme == "https" else 80)


def checked_addresses(url: str, *, field: str = "url") -> list[str]:
    """Resolve `url`'s host once and return its addresses, raising ValidationFailed unless
    the URL is http(s) and every address is allowed. The sender connects to exactly these."""
    parts, port = _http_url(url, field)
    try:
        addresses = resolve(parts.hostname, port)
    except (socket.gaierror, UnicodeError, OSError):
        msg = _("The host name does not resolve.")
        raise ValidationFailed(msg, fields={field: [msg]}) from None
    if getattr(settings, "WEBHOOKS_ALLOW_PRIVATE", False):
        return addresses
    if not addresses or not all(address_allowed(a) for a in addresses):
        msg = _("The URL resolves to a private, loopback or otherwise non-public address.")
        raise ValidationFailed(msg, code="url_not_public", fields={field: [msg]})
    return addresses


def check_url(url: str, *, field: str = "url") -> None:
    """Raise ValidationFailed unless `url` is http(s) and every address it resolves to is
    allowed. Called at registration; sending checks again (`checked_addresses`)."""
    _http_url(url, field)
    if getattr(settings, "WEBHOOKS_ALLOW_PRIVATE", False):
        return
    checked_addresses(url, field=field)
