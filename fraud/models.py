"""Fraud assessments of referrals, one per referral × stage checked."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from referral_platform.tenancy.scoping import TenantOwnedModel


class Decision(models.TextChoices):
    APPROVE = "approve", _("Approve")
    REVIEW = "review", _("Review")
    REJECT = "reject", _("Reject")


class Assessment(TenantOwnedModel):
    referral = models.ForeignKey("tracking.Referral", on_delete=models.CASCADE, related_name="assessments")
    stage_key = models.CharField(max_length=80)  # "signup" or the paying stage's key
    score = models.PositiveSmallIntegerField()
    decision = models.CharField(max_length=10, choices=Decision.choices)
    # [{"code": "same_device", "weight": 40, "reason": "…"}]
    signals = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "referral", "stage_key"], name="assessment_unique_stage"
            )
        ]
        indexes = [models.Index(fields=["tenant", "decision", "created_at"])]
