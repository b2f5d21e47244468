"""Outbound webhooks: endpoints per tenant, one message per emitted event, one delivery per
endpoint × message (the outbox), and every attempt logged with its request and response."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from referral_platform.tenancy.scoping import TenantOwnedModel

EVENT_TYPES = (
    "referral.created",
    "referral.status_changed",
    "reward.approved",
    "reward.fulfilled",
    "reward.reversed",
    "conversion.flagged",
    "payout.requested",
    "payout.cancelled",
    "redemption.created",
    "ambassador.granted",
    "ambassador.revoked",
)


class WebhookEndpoint(TenantOwnedModel):
    url = models.URLField(_("URL"), max_length=500)
    # Subscribed event types; empty means every type.
    events = models.JSONField(default=list, blank=True)
    secret = models.CharField(max_length=100)
    description = models.CharField(max_length=200, blank=True)
    is_active = models.BooleanField(default=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["tenant", "is_active"])]

    def __str__(self) -> str:
        return self.url

    def subscribes_to(self, event_type: str) -> bool:
        return not self.events or event_type in self.events


class WebhookMessage(TenantOwnedModel):
    """One emitted event. `msg_id` is the `webhook-id` header: stable across retries and
    replays, so receivers can dedupe on it."""

    msg_id = models.CharField(max_length=40, unique=True)
    type = models.CharField(max_length=40)
    data = models.JSONField()
    created_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["tenant", "created_at"])]


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")  # gave up after the retry schedule or the endpoint was disabled


class WebhookDelivery(TenantOwnedModel):
    message = models.ForeignKey(WebhookMessage, on_delete=models.CASCADE, related_name="deliveries")
    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    status = models.CharField(
        max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # A worker claims the delivery until this moment by a conditional UPDATE, so two
    # workers (the on-commit task and the retry sweep) never send it at the same time.
    locked_until = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField()
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "message", "endpoint"], name="webhook_delivery_unique"
            )
        ]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"]),
            models.Index(fields=["tenant", "endpoint", "created_at"]),
        ]


class WebhookAttempt(TenantOwnedModel):
    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="log")
    request_headers = models.JSONField(default=dict)
    request_body = models.TextField()
    response_status = models.PositiveIntegerField(null=True, blank=True)
    response_body = models.TextField(blank=True)
    error = models.CharField(max_length=500, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["tenant", "delivery", "created_at"])]
