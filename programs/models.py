"""Programs and their versioned rules. A program's rules live in `ProgramVersion.spec`,
the same JSON document the API and `export_program` use; editing makes a new version."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from referral_platform.tenancy.scoping import TenantOwnedModel


class ProgramStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    ACTIVE = "active", _("Active")
    PAUSED = "paused", _("Paused")
    ENDED = "ended", _("Ended")


class Program(TenantOwnedModel):
    slug = models.SlugField(max_length=80)
    name = models.CharField(max_length=200)
    status = models.CharField(
        max_length=10, choices=ProgramStatus.choices, default=ProgramStatus.DRAFT
    )
    currency = models.CharField(max_length=3)
    # Denormalised from the current version for the hot paths (redirect, invite page).
    starts_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True)
    landing_url = models.URLField(blank=True)
    current_version = models.ForeignKey(
        "programs.ProgramVersion", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "slug"], name="program_unique_slug")
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def spec(self) -> dict:
        if not self.current_version_id:
            return {}
        from .selectors import version_spec

        return version_spec(self.current_version_id, lambda: self.current_version.spec)


class ProgramVersion(TenantOwnedModel):
    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    spec = models.JSONField()
    note = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "program", "number"], name="program_version_unique_number"
            )
        ]
        ordering = ["program", "number"]

    def __str__(self) -> str:
        return f"{self.program} v{self.number}"
