"""One HTTP POST, no redirects followed, with a short timeout. The only I/O of the outbox.

The socket goes to an address the caller already checked (`addresses`), never to a fresh
DNS answer; for https the certificate is still verified against the URL's host name, so
pinning the address costs nothing in authenticity.
"""

from __future__ import annotations

import http.client
import socket
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

TIMEOUT_SECONDS = 10
MAX_RESPONSE_BYTES = 4096


@dataclass(frozen=True)
class Response:
    status: int | None
    body: str
    error: str
    duration_ms: int


def _tls_context() -> ssl.SSLContext:
    return ssl.create_default_context()


class _PinnedHTTP(http.client.HTTPConnection):
    """An HTTP connection to `host` (Host header, TLS name) made to the socket `address`."""

    def __init__(self, host: str, port: int, address: str, timeout: float):
        super().__init__(host, port, timeout=timeout)
        self.address = address

    def _open_socket(self) -> socket.socket:
        sock = socket.create_connection((self.address, self.port), self.timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock

    def connect(self):
        self.sock = self._open_socket()


class _PinnedHTTPS(_PinnedHTTP):
    default_port = http.client.HTTPS_PORT

    def connect(self):
        # check_hostname: the peer must hold a certificate for the URL's host, whatever
        # address it was reached at.
        self.sock = _tls_context().wrap_socket(self._open_socket(), server_hostname=self.host)


def post(url: str, body: str, headers: dict[str, str], *, addresses: list[str]) -> Response:
    """POST `body` to `url`, connecting only to `addresses` (tried in order). A 3xx is an
    answer, not an instruction: nothing follows it to wherever it points."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return Response(None, "", "only http(s) URLs are sent to", 0)
    if not addresses:
        return Response(None, "", "no address to connect to", 0)
    connection_class = _PinnedHTTPS if parts.scheme == "https" else _PinnedHTTP
    port = parts.port or connection_class.default_port
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    started = time.monotonic()
    status, text, error = None, "", ""
    for address in addresses:
        connection = connection_class(parts.hostname, port, address, TIMEOUT_SECONDS)
        try:
            connection.request("POST", target, body=body.encode(), headers=headers)
            resp = connection.getresponse()
            status = resp.status
            text = resp.read(MAX_RESPONSE_BYTES).decode("utf-8", "replace")
            error = ""
            break
        except (OSError, http.client.HTTPException, ValueError) as exc:
            # A refused or unreachable address: the next checked one may answer.
            status, text, error = None, "", (str(exc) or type(exc).__name__)[:500]
        finally:
            connection.close()
    return Response(status, text, error, int((time.monotonic() - started) * 1000))
