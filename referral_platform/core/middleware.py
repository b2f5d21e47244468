"""Request ids for structured logs: taken from X-Request-ID when sane, else made."""

import contextvars
import logging
import random
import re

from csp.middleware import CSPMiddleware

_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
_SAFE = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


def current_request_id() -> str:
    return _request_id.get()


class RequestIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # META directly: `request.headers` would copy every header of the request first.
        incoming = request.META.get("HTTP_X_REQUEST_ID", "")
        # A correlation id, not a secret: made without a system call for randomness.
        request_id = incoming if _SAFE.match(incoming) else f"{random.getrandbits(128):032x}"
        token = _request_id.set(request_id)
        request.request_id = request_id
        try:
            response = self.get_response(request)
        finally:
            _request_id.reset(token)
        response["X-Request-ID"] = request_id
        return response


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _request_id.get()
        return True


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """django-csp's header, on everything but JSON. A browser applies a policy to documents it
    renders; JSON answers (the API's, mostly) are data, served with nosniff. django-csp builds
    the policy twice per response (enforced and report-only): 5% of an accepted event's cost."""

    def process_response(self, request, response):
        if response.get("Content-Type", "").startswith("application/json"):
            return response
        return super().process_response(request, response)
