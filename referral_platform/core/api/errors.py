"""The API's one error shape: `{"error": {"code", "message", "fields"}}`."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response

from referral_platform.core.errors import DomainError


def flatten_fields(detail, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested error detail as `{"participant.external_id": [...], "events[3].type": [...]}`."""
    out: dict[str, list[str]] = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            if key == "non_field_errors":
                path = prefix or "non_field_errors"
            elif str(key).isdigit() and prefix:
                path = f"{prefix}[{key}]"
            else:
                path = f"{prefix}.{key}" if prefix else str(key)
            out.update(flatten_fields(value, path))
    elif isinstance(detail, list):
        if all(not isinstance(item, (dict, list)) for item in detail):
            out.setdefault(prefix or "non_field_errors", []).extend(str(i) for i in detail)
        else:
            for index, item in enumerate(detail):
                if item:
                    out.update(flatten_fields(item, f"{prefix}[{index}]"))
    else:
        out.setdefault(prefix or "non_field_errors", []).append(str(detail))
    return out


def error_response(
    code: str,
    message: str,
    http_status: int,
    fields: dict | None = None,
    headers: dict | None = None,
) -> Response:
    body = {"error": {"code": code, "message": message, "fields": fields or {}}}
    return Response(body, status=http_status, headers=headers)


def exception_handler(exc, context):
    if isinstance(exc, DomainError):
        return error_response(exc.code, exc.message, exc.status, exc.fields)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    if isinstance(exc, exceptions.ValidationError):
        return error_response(
            "validation_failed",
            "Some fields are invalid.",
            status.HTTP_422_UNPROCESSABLE_ENTITY,
            flatten_fields(exc.detail),
        )
    if isinstance(exc, exceptions.ParseError):
        return error_response("parse_error", str(exc.detail), status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, exceptions.Throttled):
        wait = int(exc.wait or 1)
        return error_response(
            "rate_limited",
            "Too many requests.",
            status.HTTP_429_TOO_MANY_REQUESTS,
            headers={"Retry-After": str(max(wait, 1))},
        )
    if isinstance(exc, (exceptions.NotAuthenticated, exceptions.AuthenticationFailed)):
        return error_response(
            "unauthenticated",
            str(exc.detail),
            status.HTTP_401_UNAUTHORIZED,
            headers={"WWW-Authenticate": "Bearer"},
        )
    if isinstance(exc, exceptions.APIException):
        code = exc.get_codes() if isinstance(exc.get_codes(), str) else "error"
        return error_response(code, str(exc.detail), exc.status_code)
    return None
