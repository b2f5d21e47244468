"""One HTTP POST, no redirects followed, with a short timeout. The only I/O of the outbox."""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from dataclasses import dataclass

TIMEOUT_SECONDS = 10
MAX_RESPONSE_BYTES = 4096


@dataclass(frozen=True)
class Response:
    status: int | None
    body: str
    error: str
    duration_ms: int


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    # A 3xx is an answer, not an instruction: following it would let an endpoint bounce
    # us to an internal address after the SSRF check.
    def redirect_request(self, *args, **kwargs):
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def post(url: str, body: str, headers: dict[str, str]) -> Response:
    if not url.startswith(("http://", "https://")):
        return Response(None, "", "only http(s) URLs are sent to", 0)
    started = time.monotonic()
    request = urllib.request.Request(url, data=body.encode(), headers=headers, method="POST")  # noqa: S310
    try:
        with _opener.open(request, timeout=TIMEOUT_SECONDS) as resp:  # noqa: S310 — scheme checked above
            status, text, error = (
                resp.status,
                resp.read(MAX_RESPONSE_BYTES).decode("utf-8", "replace"),
                "",
            )
    except urllib.error.HTTPError as exc:
        status, text, error = exc.code, exc.read(MAX_RESPONSE_BYTES).decode("utf-8", "replace"), ""
    except (urllib.error.URLError, OSError, ValueError) as exc:
        status, text, error = None, "", str(getattr(exc, "reason", exc))[:500]
    return Response(status, text, error, int((time.monotonic() - started) * 1000))
