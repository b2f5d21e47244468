"""Tenants, their staff memberships and their API keys."""

from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from referral_platform.core.calendar import TenantCalendar

from .scoping import TenantOwnedModel

hex_colour = RegexValidator(r"^#[0-9a-fA-F]{6}$", _("Use a colour like #1f6feb."))


class Tenant(models.Model):
    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("slug"), max_length=60, unique=True)
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    timezone = models.CharField(_("time zone"), max_length=64, default="UTC")
    # ISO dates; `workdays` are make-up working days that fall on weekends (调休).
    holidays = models.JSONField(_("holidays"), default=list, blank=True)
    workdays = models.JSONField(_("make-up working days"), default=list, blank=True)
    default_locale = models.CharField(_("default language"), max_length=10, default="en")
    brand_colour = models.CharField(
        _("brand colour"), max_length=7, default="#1f6feb", validators=[hex_colour]
    )
    logo = models.ImageField(_("logo"), upload_to="logos/", blank=True)
    # Origins allowed to frame the customer portal (frame-ancestors).
    portal_frame_origins = models.JSONField(default=list, blank=True)
    review_sla_hours = models.PositiveIntegerField(default=48)
    # Staff must have a TOTP authenticator (allauth MFA) to use this tenant's staff pages.
    require_mfa = models.BooleanField(_("require two-factor sign-in for staff"), default=False)
    is_sandbox = models.BooleanField(default=False)
    live_tenant = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="sandbox"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name

    @property
    def brand_text_colour(self) -> str:
        """Black or white, whichever reads at 4.5:1 on the brand colour."""
        from referral_platform.core.colour import text_on

        return text_on(self.brand_colour or "#1f6feb")

    @property
    def calendar(self) -> TenantCalendar:
        return TenantCalendar.from_lists(self.timezone, self.holidays, self.workdays)


class Role(models.TextChoices):
    OWNER = "owner", _("Owner")
    MARKETER = "marketer", _("Marketer")
    OPS = "ops", _("Ops")
    ANALYST = "analyst", _("Analyst")


class Membership(models.Model):
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=20, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "user"], name="membership_unique_user")
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.tenant} ({self.role})"


class ApiKey(TenantOwnedModel):
    """`<prefix>.<secret>`: the prefix finds the row, a SHA-256 of the whole key checks it.

    A password hasher would cost hundreds of milliseconds per request; the secret is 256
    random bits, so a fast hash is enough.
    """

    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(max_length=16, unique=True)
    secret_hash = models.CharField(max_length=64)
    is_test = models.BooleanField(default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["tenant", "created_at"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix})"

    @staticmethod
    def hash_secret(full_key: str) -> str:
        return hashlib.sha256(full_key.encode()).hexdigest()

    @staticmethod
    def generate(is_test: bool) -> tuple[str, str]:
        """A new `(prefix, full_key)`; test keys say so in their prefix."""
        prefix = ("rk_test_" if is_test else "rk_live_") + secrets.token_hex(4)
        return prefix, f"{prefix}.{secrets.token_urlsafe(32)}"


class Invitation(TenantOwnedModel):
    """An owner's invitation of a teammate by email, with the role they will get.

    The link carries a signed token of the id and a random nonce; revoking or accepting
    makes the token useless, and signing lets it expire without a sweep.
    """

    email = models.EmailField(_("email"))
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    nonce = models.CharField(max_length=32)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    SALT = "tenancy.invitation"
    MAX_AGE_SECONDS = 7 * 24 * 3600

    class Meta:
        constraints = [
            # One open invitation per address and tenant; re-inviting refreshes it.
            models.UniqueConstraint(
                fields=["tenant", "email"],
                condition=models.Q(accepted_at=None, revoked_at=None),
                name="invitation_one_open_per_email",
            )
        ]
        indexes = [models.Index(fields=["tenant", "created_at"])]

    def __str__(self) -> str:
        return f"{self.email} → {self.tenant_id} ({self.role})"

    @property
    def token(self) -> str:
        from django.core import signing

        return signing.dumps({"i": self.pk, "n": self.nonce}, salt=self.SALT, compress=False)

    @property
    def is_open(self) -> bool:
        return self.accepted_at is None and self.revoked_at is None
