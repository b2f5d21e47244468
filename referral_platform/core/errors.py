"""Domain errors. Services raise these before touching anything; the API maps them to 4xx."""

from __future__ import annotations


class DomainError(Exception):
    code = "invalid"
    status = 422

    def __init__(self, message: str, *, code: str | None = None, fields: dict | None = None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.fields = fields or {}


class ValidationFailed(DomainError):
    code = "validation_failed"
    status = 422


class NotFound(DomainError):
    code = "not_found"
    status = 404


class Conflict(DomainError):
    code = "conflict"
    status = 409


class PermissionDenied(DomainError):
    code = "permission_denied"
    status = 403


class TenantContextMissing(RuntimeError):
    """A tenant-owned table was queried without a tenant context: fail closed."""
