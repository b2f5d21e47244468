"""Fraud assessments of referrals (one per referral × stage checked), the policy that scores
them, blocklists, the identifiers seen, the ops review queue, disputes and leaked codes."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from referral_platform.tenancy.scoping import TenantOwnedModel


class Decision(models.TextChoices):
    APPROVE = "approve", _("Approve")
    REVIEW = "review", _("Review")
    REJECT = "reject", _("Reject")


class Assessment(TenantOwnedModel):
    referral = models.ForeignKey(
        "tracking.Referral", on_delete=models.CASCADE, related_name="assessments"
    )
    stage_key = models.CharField(max_length=80)  # "signup" or the paying stage's key
    score = models.PositiveSmallIntegerField()
    decision = models.CharField(max_length=10, choices=Decision.choices)
    # [{"code": "same_device", "weight": 40, "reason": "…", "forces": ""}]
    signals = models.JSONField(default=list)
    # Why the decision differs from what the score says (e.g. a reviewer already cleared
    # these signals), or why the assessment could not run.
    note = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "referral", "stage_key"], name="assessment_unique_stage"
            )
        ]
        indexes = [models.Index(fields=["tenant", "decision", "created_at"])]

    @property
    def signal_codes(self) -> list[str]:
        return [s.get("code", "") for s in self.signals]


class FraudPolicy(TenantOwnedModel):
    """Thresholds and per-signal weights. The row without a program is the tenant's default;
    a program's row overrides it, key by key. Missing rows mean the built-in defaults."""

    program = models.ForeignKey(
        "programs.Program", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    review_threshold = models.PositiveSmallIntegerField(null=True, blank=True)
    reject_threshold = models.PositiveSmallIntegerField(null=True, blank=True)
    weights = models.JSONField(default=dict, blank=True)  # {"same_ip": 30}
    forces = models.JSONField(default=dict, blank=True)  # {"same_domain": "review"}
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant"], condition=models.Q(program=None), name="fraud_policy_one_default"
            ),
            models.UniqueConstraint(
                fields=["tenant", "program"],
                condition=models.Q(program__isnull=False),
                name="fraud_policy_one_per_program",
            ),
        ]


class IdentifierKind(models.TextChoices):
    EMAIL = "email", _("Email")
    DOMAIN = "domain", _("Email domain")
    PHONE = "phone", _("Phone")
    DEVICE = "device", _("Device")
    PAYMENT = "payment", _("Payment fingerprint")
    ADDRESS = "address", _("Address")
    IP = "ip", _("IP address")
    IP24 = "ip24", _("IP network (/24)")


class BlockedIdentifier(TenantOwnedModel):
    """A tenant's blocklist entry; matched by keyed hash, shown masked."""

    kind = models.CharField(max_length=10, choices=IdentifierKind.choices)
    value_hash = models.CharField(max_length=64)
    display = models.CharField(max_length=120, blank=True)
    note = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "kind", "value_hash"], name="blocked_identifier_unique"
            )
        ]


class Fingerprint(TenantOwnedModel):
    """An identifier (keyed hash) seen for a participant. Velocity, rings and the reviewer's
    "shared identifiers" table are all joins on `(tenant, token)`."""

    kind = models.CharField(max_length=10, choices=IdentifierKind.choices)
    token = models.CharField(max_length=64)
    participant = models.ForeignKey(
        "tracking.Participant", on_delete=models.CASCADE, related_name="+"
    )
    first_seen_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "kind", "token", "participant"], name="fingerprint_unique"
            )
        ]
        indexes = [
            models.Index(fields=["tenant", "token"]),
            models.Index(fields=["tenant", "participant"]),
        ]


class CaseStatus(models.TextChoices):
    OPEN = "open", _("Open")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")


class ReviewCase(TenantOwnedModel):
    """A referral waiting for a person (or decided by one). One per referral: a referral that
    is flagged again after a decision reopens its case."""

    referral = models.ForeignKey("tracking.Referral", on_delete=models.CASCADE, related_name="+")
    program = models.ForeignKey("programs.Program", on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=10, choices=CaseStatus.choices, default=CaseStatus.OPEN)
    score = models.PositiveSmallIntegerField(default=0)
    signal_codes = models.JSONField(default=list)
    opened_at = models.DateTimeField()
    due_at = models.DateTimeField()
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    note = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "referral"], name="review_case_one_per_referral"
            )
        ]
        indexes = [models.Index(fields=["tenant", "status", "opened_at"])]


class DisputeStatus(models.TextChoices):
    OPEN = "open", _("Open")
    ANSWERED = "answered", _("Answered")


class DisputeOutcome(models.TextChoices):
    UPHELD = "upheld", _("Upheld: the decision was changed")
    DENIED = "denied", _("Denied: the decision stands")
    INFO = "info", _("Answered")


class Dispute(TenantOwnedModel):
    """A customer's appeal from the portal, answered by ops within 5 business days."""

    participant = models.ForeignKey(
        "tracking.Participant", on_delete=models.CASCADE, related_name="+"
    )
    referral = models.ForeignKey(
        "tracking.Referral", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    message = models.TextField()
    status = models.CharField(
        max_length=10, choices=DisputeStatus.choices, default=DisputeStatus.OPEN
    )
    opened_at = models.DateTimeField()
    due_at = models.DateTimeField()
    answer = models.TextField(blank=True)
    outcome = models.CharField(max_length=10, choices=DisputeOutcome.choices, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["tenant", "status", "due_at"]),
            models.Index(fields=["tenant", "participant"]),
        ]


class CodeFlagStatus(models.TextChoices):
    OPEN = "open", _("Open")
    ROTATED = "rotated", _("Rotated")
    DISMISSED = "dismissed", _("Dismissed")


class CodeFlag(TenantOwnedModel):
    """A referral code used far beyond its owner's normal reach."""

    code = models.CharField(max_length=32)
    enrollment = models.ForeignKey(
        "tracking.Enrollment", null=True, on_delete=models.CASCADE, related_name="+"
    )
    status = models.CharField(
        max_length=10, choices=CodeFlagStatus.choices, default=CodeFlagStatus.OPEN
    )
    reasons = models.JSONField(default=list)
    flagged_at = models.DateTimeField()
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "code"], name="code_flag_unique")]
