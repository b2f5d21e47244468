"""Participants, their codes and clicks, the events tenants send, and referrals."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from referral_platform.tenancy.scoping import TenantOwnedModel


class Participant(TenantOwnedModel):
    """A tenant's customer: a referrer, a referee, or both. Leads from the invite page are
    `lead:<ulid>` until a tenant `signup` with the same click id, email or phone merges them."""

    external_id = models.CharField(max_length=200)
    # Kept for notifications and masked display; matching uses the keyed HMACs.
    email = models.CharField(max_length=254, blank=True)
    email_hash = models.CharField(max_length=64, blank=True)
    email_domain = models.CharField(max_length=253, blank=True)
    phone = models.CharField(max_length=32, blank=True)
    phone_hash = models.CharField(max_length=64, blank=True)
    name = models.CharField(max_length=200, blank=True)
    locale = models.CharField(max_length=10, blank=True)
    segments = models.JSONField(default=list, blank=True)
    attributes = models.JSONField(default=dict, blank=True)
    is_lead = models.BooleanField(default=False)
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="merged_leads"
    )
    opted_out_at = models.DateTimeField(null=True, blank=True)
    erased_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "external_id"], name="participant_unique_external_id"
            )
        ]
        indexes = [
            models.Index(fields=["tenant", "email_hash"]),
            models.Index(fields=["tenant", "phone_hash"]),
        ]

    def __str__(self) -> str:
        return self.name or self.external_id


class Enrollment(TenantOwnedModel):
    """A participant taking part in a program as a referrer (one per participant × program)."""

    program = models.ForeignKey(
        "programs.Program", on_delete=models.CASCADE, related_name="enrollments"
    )
    participant = models.ForeignKey(
        Participant, on_delete=models.CASCADE, related_name="enrollments"
    )
    eligible = models.BooleanField(default=True)
    ineligible_reasons = models.JSONField(default=list, blank=True)
    # The referrer-side experiment variants assigned at enrollment (SEMANTICS §5), as
    # `programs.engine.variants_encode` writes them: `<experiment>:<variant>[,…]`.
    variant = models.TextField(blank=True)
    personal_message = models.CharField(max_length=280, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "program", "participant"], name="enrollment_unique_participant"
            )
        ]


class ReferralCode(TenantOwnedModel):
    """A shareable code. Codes are globally unique so `/r/<code>` finds its tenant; a rotated
    (leaked) code keeps resolving to the program's standard offer, unattributed."""

    enrollment = models.ForeignKey(Enrollment, on_delete=models.CASCADE, related_name="codes")
    program = models.ForeignKey("programs.Program", on_delete=models.CASCADE, related_name="+")
    code = models.CharField(max_length=32, unique=True)
    is_vanity = models.BooleanField(default=False)
    rotated_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["tenant", "enrollment"])]

    def __str__(self) -> str:
        return self.code


class Click(TenantOwnedModel):
    """One visit of `/r/<code>`. The id is a ULID made by the application so clicks can be
    buffered and written in bulk."""

    id = models.CharField(max_length=26, primary_key=True)
    program = models.ForeignKey("programs.Program", on_delete=models.CASCADE, related_name="+")
    enrollment = models.ForeignKey(
        Enrollment, null=True, on_delete=models.CASCADE, related_name="+"
    )
    code = models.CharField(max_length=32)
    created_at = models.DateTimeField()
    source = models.CharField(max_length=20, default="link")  # link, qr, event, or a share channel
    ip_hash = models.CharField(max_length=64, blank=True)
    ip24_hash = models.CharField(max_length=64, blank=True)
    ua_class = models.CharField(max_length=20, blank=True)  # browser, mobile, bot, headless
    referer = models.CharField(max_length=500, blank=True)
    utm = models.JSONField(default=dict, blank=True)
    is_bot = models.BooleanField(default=False)
    leaked = models.BooleanField(default=False)

    class Meta:
        indexes = [
            models.Index(fields=["tenant", "program", "created_at"]),
            models.Index(fields=["tenant", "enrollment", "created_at"]),
        ]


class EventType(models.TextChoices):
    SIGNUP = "signup", _("Sign-up")
    QUALIFIED_LEAD = "qualified_lead", _("Qualified lead")
    PURCHASE = "purchase", _("Purchase")
    REFUND = "refund", _("Refund")
    ACTIVITY = "activity", _("Activity")
    SHARE = "share", _("Share")


class EventStatus(models.TextChoices):
    ACCEPTED = "accepted", _("Accepted")
    PROCESSED = "processed", _("Processed")
    FAILED = "failed", _("Failed")


class Event(TenantOwnedModel):
    """What a tenant's backend reported, stored durably before anything else happens."""

    event_id = models.CharField(max_length=200)
    type = models.CharField(max_length=20, choices=EventType.choices)
    occurred_at = models.DateTimeField()
    received_at = models.DateTimeField(auto_now_add=True)
    participant = models.ForeignKey(
        Participant, null=True, blank=True, on_delete=models.SET_NULL, related_name="events"
    )
    external_id = models.CharField(max_length=200)
    order_id = models.CharField(max_length=200, blank=True)
    amount_minor = models.BigIntegerField(null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    payload = models.JSONField()
    body_hash = models.CharField(max_length=64)
    status = models.CharField(
        max_length=10, choices=EventStatus.choices, default=EventStatus.ACCEPTED
    )
    attempts = models.PositiveIntegerField(default=0)
    processed_at = models.DateTimeField(null=True, blank=True)
    # Set by whoever claims the event for processing (conditional UPDATE); a claim that
    # outlives this time was lost with its worker and may be taken again.
    claimed_until = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "event_id"], name="event_unique_event_id")
        ]
        indexes = [
            models.Index(fields=["status", "received_at"]),
            models.Index(fields=["tenant", "type", "occurred_at"]),
            models.Index(fields=["tenant", "participant", "occurred_at"]),
        ]


class ReferralStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    QUALIFIED = "qualified", _("Qualified")
    CONVERTED = "converted", _("Converted")
    RETAINED = "retained", _("Retained")
    REVIEW = "review", _("In review")
    REJECTED = "rejected", _("Rejected")


class AttributionSource(models.TextChoices):
    LINK = "link", _("Link")
    QR = "qr", _("QR code")
    CODE = "code", _("Code")
    CLAIM = "claim", _("Claim")
    IDENTITY = "identity", _("Phone/email match")


class Referral(TenantOwnedModel):
    """Referrer ↔ referee in one program, ever. Follows the program version in force when
    it was created (SEMANTICS §5)."""

    program = models.ForeignKey(
        "programs.Program", on_delete=models.CASCADE, related_name="referrals"
    )
    program_version = models.ForeignKey(
        "programs.ProgramVersion", on_delete=models.PROTECT, related_name="+"
    )
    referrer = models.ForeignKey(
        Participant, on_delete=models.CASCADE, related_name="referrals_made"
    )
    referee = models.ForeignKey(
        Participant, on_delete=models.CASCADE, related_name="referrals_received"
    )
    enrollment = models.ForeignKey(
        Enrollment, null=True, on_delete=models.SET_NULL, related_name="referrals"
    )
    code = models.CharField(max_length=32, blank=True)
    source = models.CharField(max_length=10, choices=AttributionSource.choices)
    click_id = models.CharField(max_length=26, blank=True)
    status = models.CharField(
        max_length=10, choices=ReferralStatus.choices, default=ReferralStatus.PENDING
    )
    # The status before review/rejection, to return to when ops approves.
    status_before_review = models.CharField(max_length=10, blank=True)
    # The occurred_at of the sign-up that created it.
    created_at = models.DateTimeField()
    received_at = models.DateTimeField(auto_now_add=True)
    status_changed_at = models.DateTimeField()
    reversed_at = models.DateTimeField(null=True, blank=True)
    # Why it was attributed as it was: touches seen, the rule and window, touches that lost.
    evidence = models.JSONField(default=dict, blank=True)
    # Every experiment variant this referral is evaluated under (`<experiment>:<variant>[,…]`,
    # `programs.engine.variants_encode`): the referrer's from the enrollment, the referee's
    # assigned when the referral was created. Fixed at creation, like its program version.
    variant = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "program", "referee"], name="referral_unique_referee"
            )
        ]
        indexes = [
            models.Index(fields=["tenant", "program", "created_at"]),
            models.Index(fields=["tenant", "referrer", "created_at"]),
            models.Index(fields=["tenant", "status"]),
        ]


class ReferralStage(TenantOwnedModel):
    """A stage of the program's spec that a referral reached (or reached and lost)."""

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="stages")
    stage_key = models.CharField(max_length=80)
    status_set = models.CharField(max_length=10, choices=ReferralStatus.choices, blank=True)
    occurred_at = models.DateTimeField()
    event = models.ForeignKey(
        Event, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    due_at = models.DateTimeField(null=True, blank=True)
    reversed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "referral", "stage_key"], name="referral_stage_unique_key"
            )
        ]


class ClaimStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for the sign-up")
    ATTRIBUTED = "attributed", _("Attributed")
    REVIEW = "review", _("In review")
    IGNORED = "ignored", _("Ignored")


class Claim(TenantOwnedModel):
    """ "Someone referred me": the referee names a referrer after the fact (POST /claims)."""

    program = models.ForeignKey("programs.Program", on_delete=models.CASCADE, related_name="+")
    referee = models.ForeignKey(Participant, on_delete=models.CASCADE, related_name="claims")
    referrer = models.ForeignKey(
        Participant, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # How the referee named the referrer: code, phone or email (only the kind is kept).
    named_by = models.CharField(max_length=10)
    code = models.CharField(max_length=32, blank=True)
    status = models.CharField(
        max_length=10, choices=ClaimStatus.choices, default=ClaimStatus.PENDING
    )
    referral = models.ForeignKey(
        Referral, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["tenant", "referee", "program"])]
