"""The one audit log every app writes to: who did what to which object, when, from where."""

from django.conf import settings
from django.db import models

from referral_platform.tenancy.scoping import TenantOwnedModel


class AuditEntry(TenantOwnedModel):
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # "user:<email>", "api_key:<prefix>", "system", "participant:<external_id>"
    actor_label = models.CharField(max_length=200, default="system")
    action = models.CharField(max_length=100)
    target_type = models.CharField(max_length=100, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    data = models.JSONField(default=dict, blank=True)
    note = models.TextField(blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        indexes = [
            models.Index(fields=["tenant", "-created_at"]),
            models.Index(fields=["tenant", "target_type", "target_id"]),
        ]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_label} {self.action}"


class IdempotencyRecord(TenantOwnedModel):
    """The first answer to a POST carrying an `Idempotency-Key`, replayed for retries. A row
    without a status code is a claim: its request is still running."""

    key = models.CharField(max_length=255)
    path = models.CharField(max_length=255)
    body_hash = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField(null=True)
    response_body = models.JSONField(null=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "key", "path"], name="idempotency_unique_key")
        ]
