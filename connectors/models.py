"""Connectors: a tenant's billing, store and analytics sources feeding our events, each
with its secret and a log of what every delivery became."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from referral_platform.tenancy.scoping import TenantOwnedModel


class Kind(models.TextChoices):
    STRIPE = "stripe", "Stripe"
    SHOPIFY = "shopify", "Shopify"
    SEGMENT = "segment", "Segment"


class Connector(TenantOwnedModel):
    """One inbound source per tenant and kind. `secret` verifies what the provider signs:
    Stripe's endpoint secret (`whsec_…`), the Shopify app's client secret, or the shared
    secret we give Segment."""

    kind = models.CharField(max_length=10, choices=Kind.choices)
    is_active = models.BooleanField(default=True)
    secret = models.CharField(max_length=200)
    # Segment only: the track event name → our event type.
    mapping = models.JSONField(default=dict, blank=True)
    # A refused delivery stores nothing but this, so an owner setting up sees why.
    last_refused_at = models.DateTimeField(null=True, blank=True)
    last_refused_reason = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "kind"], name="connector_unique_kind")
        ]

    def __str__(self) -> str:
        return self.get_kind_display()


class Outcome(models.TextChoices):
    ACCEPTED = "accepted", _("Accepted")
    DUPLICATE = "duplicate", _("Duplicate")
    IGNORED = "ignored", _("Ignored")
    INVALID = "invalid", _("Invalid")


class InboundDelivery(TenantOwnedModel):
    """One verified delivery from a provider and what it became."""

    connector = models.ForeignKey(Connector, on_delete=models.CASCADE, related_name="deliveries")
    provider_id = models.CharField(max_length=200, blank=True)
    provider_type = models.CharField(max_length=100, blank=True)
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    detail = models.CharField(max_length=500, blank=True)
    # Our event_ids this delivery produced (a Shopify first order: a sign-up and a purchase).
    event_ids = models.JSONField(default=list, blank=True)
    received_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["tenant", "connector", "-received_at"])]


class ExternalRef(TenantOwnedModel):
    """What a provider's id stands for in our terms: a Stripe customer or a Shopify order →
    the participant's external_id, so a later delivery that names only the id (a
    subscription's deletion, a refund) reaches the same participant."""

    kind = models.CharField(max_length=30)  # stripe_customer | shopify_order
    ref = models.CharField(max_length=200)
    external_id = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "kind", "ref"], name="connector_external_ref_unique"
            )
        ]
