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


class PayoutKind(models.TextChoices):
    CSV = "csv", _("CSV batch (paid by a person)")
    STRIPE_CONNECT = "stripe_connect", _("Stripe Connect transfers")
    PAYPAL = "paypal", _("PayPal Payouts")


class PayoutProvider(TenantOwnedModel):
    """How the tenant's approved cash payouts leave: the CSV batch a person pays (the
    default, also when no row exists), or a provider's API with the tenant's credentials."""

    kind = models.CharField(max_length=20, choices=PayoutKind.choices, default=PayoutKind.CSV)
    # Stripe: the platform's secret key (sk_…); PayPal: the REST app's client id and secret.
    api_key = models.CharField(max_length=200, blank=True)
    client_id = models.CharField(max_length=200, blank=True)
    client_secret = models.CharField(max_length=200, blank=True)
    live = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant"], name="connector_payout_provider_unique")
        ]


class TransferStatus(models.TextChoices):
    SENDING = "sending", _("Sending")  # not yet answered by the provider (or to retry)
    PENDING = "pending", _("Pending")  # accepted, the provider settles it later (poll)
    PAID = "paid", _("Paid")
    FAILED = "failed", _("Failed")


class PayoutTransfer(TenantOwnedModel):
    """One payout handed to a provider. `idempotency_key` is derived from the payout's id
    and sent with every attempt, so a retry after a timeout can never pay twice."""

    payout = models.OneToOneField("rewards.Payout", on_delete=models.PROTECT, related_name="+")
    provider = models.CharField(max_length=20, choices=PayoutKind.choices)
    idempotency_key = models.CharField(max_length=100)
    status = models.CharField(
        max_length=10, choices=TransferStatus.choices, default=TransferStatus.SENDING
    )
    provider_ref = models.CharField(max_length=200, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # Claimed by a conditional UPDATE until then, so the sweep and a task never both send.
    locked_until = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["tenant", "status", "next_attempt_at"])]


class CrmConnection(TenantOwnedModel):
    """The tenant's HubSpot (a private app's access token). Referral statuses are pushed to
    the referee's contact (by email) and to a deal keyed by our referral id."""

    access_token = models.CharField(max_length=300)
    is_active = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant"], name="connector_crm_unique")]


class PushStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")


class CrmPush(TenantOwnedModel):
    """One referral status to push (the outbox): retried on the webhooks' schedule."""

    referral_id = models.BigIntegerField()
    status = models.CharField(max_length=20)
    changed_at = models.DateTimeField()
    state = models.CharField(max_length=10, choices=PushStatus.choices, default=PushStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    locked_until = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "referral_id", "status", "changed_at"],
                name="connector_crm_push_unique",
            )
        ]
        indexes = [models.Index(fields=["tenant", "state", "next_attempt_at"])]
