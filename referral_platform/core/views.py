"""Operational endpoints: /healthz and /metrics (Prometheus text format)."""

from __future__ import annotations

from django.conf import settings
from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.views.decorators.http import require_GET

from .metrics import render_metrics


@require_GET
def healthz(request):
    checks: dict[str, str] = {}
    healthy = True
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception as exc:  # noqa: BLE001 - a health check reports any failure
        checks["database"] = f"error: {exc.__class__.__name__}"
        healthy = False
    if settings.REDIS_URL:
        try:
            import redis

            redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2).ping()
            checks["redis"] = "ok"
        except Exception as exc:  # noqa: BLE001
            checks["redis"] = f"error: {exc.__class__.__name__}"
            healthy = False
    return JsonResponse(
        {"status": "ok" if healthy else "error", "checks": checks}, status=200 if healthy else 503
    )


@require_GET
def metrics(request):
    return HttpResponse(render_metrics(), content_type="text/plain; version=0.0.4; charset=utf-8")


def root(request):
    """`/`: staff go to the app; everyone else to the login page."""
    from django.shortcuts import redirect

    return redirect("tenancy:home" if request.user.is_authenticated else "account_login")


# --- Error pages: friendly HTML for pages, the API's error shape under /api/. ---------


def _error(request, status: int, template: str, code: str, message: str):
    from django.shortcuts import render

    if request.path.startswith("/api/"):
        return JsonResponse(
            {"error": {"code": code, "message": message, "fields": {}}}, status=status
        )
    try:
        return render(request, template, status=status)
    except Exception:  # noqa: BLE001 - an error page must never fail itself
        return HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")


def bad_request(request, exception=None):
    return _error(request, 400, "400.html", "bad_request", "Bad request.")


def permission_denied(request, exception=None):
    return _error(request, 403, "403.html", "permission_denied", "Permission denied.")


def page_not_found(request, exception=None):
    return _error(request, 404, "404.html", "not_found", "Not found.")


def server_error(request):
    return _error(request, 500, "500.html", "server_error", "Server error.")


def too_many_requests(request, exception=None):
    from .ratelimit import too_many_requests as respond

    if request.path.startswith("/api/"):
        response = JsonResponse(
            {"error": {"code": "rate_limited", "message": "Too many requests.", "fields": {}}},
            status=429,
        )
        response["Retry-After"] = "60"
        return response
    return respond(request, retry_after=60)
