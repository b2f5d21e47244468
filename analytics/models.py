"""Analytics' own tables: rollups derived from the business data (never the business data
itself), goals and targets the marketers set, and export jobs.

Rollups are disposable: `rebuild_rollups` recomputes them from the raw rows, and the
periodic job keeps them current by recomputing whole tenant-local days that changed.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from referral_platform.tenancy.scoping import TenantOwnedModel


class DailyRollup(TenantOwnedModel):
    """Additive counts per program × tenant-local day × channel × region × segment.

    `channel` is a click's source (link, qr, event or a share channel), a share's channel,
    or a referral's attribution source (a link referral takes its click's share channel);
    `region` and `segment` are the referrer's (`attributes.region`, first of `segments`).
    """

    program = models.ForeignKey("programs.Program", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    channel = models.CharField(max_length=20, blank=True)
    region = models.CharField(max_length=60, blank=True)
    segment = models.CharField(max_length=60, blank=True)
    shares = models.PositiveIntegerField(default=0)
    clicks = models.PositiveIntegerField(default=0)
    signups = models.PositiveIntegerField(default=0)
    qualified = models.PositiveIntegerField(default=0)
    converted = models.PositiveIntegerField(default=0)
    retained = models.PositiveIntegerField(default=0)
    rewarded = models.PositiveIntegerField(default=0)
    # Referrals created that day that fraud assessed / that end up rejected.
    assessed = models.PositiveIntegerField(default=0)
    rejected = models.PositiveIntegerField(default=0)
    enrollments = models.PositiveIntegerField(default=0)  # eligible enrollments created
    rewards_fulfilled = models.PositiveIntegerField(default=0)
    reward_cost_minor = models.BigIntegerField(default=0)
    # {"cash": 5000, "points": 1500}: fulfilled value minus clawbacks, by reward kind.
    cost_by_kind = models.JSONField(default=dict, blank=True)
    # Converted referrals by evidence method: {"click_id": 3, "code": 1, "claim": 1, …}.
    coverage = models.JSONField(default=dict, blank=True)
    # Percent coupons in `reward_cost_minor` by how they were valued: {"redeemed": 16800,
    # "redeemed_count": 1, "expected": 50000, "expected_count": 1} (SEMANTICS §7).
    cost_basis = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "program", "day", "channel", "region", "segment"],
                name="analytics_daily_rollup_unique",
            )
        ]
        indexes = [
            models.Index(fields=["tenant", "program", "day"]),
            # The participation-rate denominator sums every enrolment row up to a day.
            models.Index(
                fields=["tenant", "program", "day"],
                condition=models.Q(enrollments__gt=0),
                name="analytics_rollup_enrolments",
            ),
        ]


class ReferrerDaily(TenantOwnedModel):
    """Per referrer and day: the distinct-count KPIs (referrers with a referral, active
    referrers) and the leaderboard read these, since distinct counts do not add up."""

    program = models.ForeignKey("programs.Program", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    participant = models.ForeignKey(
        "tracking.Participant", on_delete=models.CASCADE, related_name="+"
    )
    channel = models.CharField(max_length=20, blank=True)
    region = models.CharField(max_length=60, blank=True)
    segment = models.CharField(max_length=60, blank=True)
    shares = models.PositiveIntegerField(default=0)
    clicks = models.PositiveIntegerField(default=0)
    referrals = models.PositiveIntegerField(default=0)
    successes = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "program", "day", "participant", "channel"],
                name="analytics_referrer_daily_unique_channel",
            )
        ]
        indexes = [models.Index(fields=["tenant", "program", "day"])]


class CustomerFact(TenantOwnedModel):
    """One row per customer who signed up: the cohort facts behind retention, repurchase,
    revenue share and LTV. Recomputed for every customer with new events."""

    participant = models.OneToOneField(
        "tracking.Participant", on_delete=models.CASCADE, related_name="+"
    )
    signup_day = models.DateField()
    region = models.CharField(max_length=60, blank=True)
    segment = models.CharField(max_length=60, blank=True)
    # The referral that brought them (not rejected); null for the baseline.
    referral = models.ForeignKey(
        "tracking.Referral", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    program = models.ForeignKey(
        "programs.Program", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    referrer = models.ForeignKey(
        "tracking.Participant", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    referral_status = models.CharField(max_length=10, blank=True)
    # Referred through a referral that was rejected: in neither group.
    excluded = models.BooleanField(default=False)
    retained_90d = models.BooleanField(default=False)
    # An `activity` or purchase on days 20–30 after sign-up (the 30-day analogue of 60–90).
    retained_30d = models.BooleanField(default=False)
    first_purchase_day = models.DateField(null=True, blank=True)
    first_purchase_revenue_minor = models.BigIntegerField(default=0)
    repurchased_60d = models.BooleanField(default=False)
    ltv_365d_minor = models.BigIntegerField(default=0)
    currency = models.CharField(max_length=3, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["tenant", "signup_day"]),
            models.Index(fields=["tenant", "first_purchase_day"]),
            models.Index(fields=["tenant", "program", "signup_day"]),
            models.Index(fields=["tenant", "referrer"]),
        ]


class CustomerDaily(TenantOwnedModel):
    """CustomerFact summed per tenant-local day, so the cohort KPIs read a few hundred rows
    instead of every customer. `basis` says which day: `signup` rows carry the sign-up
    figures (customers, retained, LTV), `purchase` rows the first-purchase ones (first
    purchasers, repurchased, revenue). `group` is referred / baseline / excluded (a
    rejected referral's customer); `program` is the referring program (null otherwise)."""

    day = models.DateField()
    basis = models.CharField(max_length=10)
    group = models.CharField(max_length=10)
    program = models.ForeignKey(
        "programs.Program", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    region = models.CharField(max_length=60, blank=True)
    segment = models.CharField(max_length=60, blank=True)
    customers = models.PositiveIntegerField(default=0)
    retained_90d = models.PositiveIntegerField(default=0)
    ltv_365d_minor = models.BigIntegerField(default=0)
    repurchased_60d = models.PositiveIntegerField(default=0)
    revenue_minor = models.BigIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["tenant", "basis", "day"])]


class RollupState(TenantOwnedModel):
    """How far the incremental job has read: rows that arrived after `watermark` are new."""

    watermark = models.DateTimeField()
    last_run_at = models.DateTimeField()
    days_refreshed = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant"], name="analytics_state_unique")]


class GoalMetric(models.TextChoices):
    REFERRAL_SHARE = "referral_share", _("Referral share of new customers")
    CONVERSION_RATE = "conversion_rate", _("Conversion rate")
    PARTICIPATION_RATE = "participation_rate", _("Participation rate")
    CPRA = "cost_per_referred_customer", _("Cost per referred customer")
    REFERRAL_REVENUE_SHARE = "referral_revenue_share", _("Referral share of new revenue")
    FRAUD_RATE = "fraud_rate", _("Fraud rate")
    REFERRED_RETENTION = "referred_retention_90d", _("Referred 90-day retention")
    LTV_TO_CAC = "ltv_to_cac", _("LTV / CAC")


class Goal(TenantOwnedModel):
    """A SMART target: a metric, a direction, a value and a window (e.g. referral share
    ≥ 18% from 1 March to 31 May; CPRA ≤ ¥35). Ratios are stored in basis points, money in
    minor units, LTV/CAC in hundredths, so the target stays an integer."""

    program = models.ForeignKey("programs.Program", on_delete=models.CASCADE, related_name="+")
    metric = models.CharField(max_length=40, choices=GoalMetric.choices)
    comparator = models.CharField(max_length=2, choices=[("ge", "≥"), ("le", "≤")])
    target = models.BigIntegerField()
    starts_on = models.DateField()
    ends_on = models.DateField()
    note = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["tenant", "program"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_on__gte=models.F("starts_on")),
                name="analytics_goal_window_order",
            )
        ]


class ProgramTargets(TenantOwnedModel):
    """Inputs the KPIs cannot derive: the monthly budget and CPRA target for pacing and the
    tenant's own acquisition cost for LTV/CAC. (The holdout is the program spec's `holdout`.)"""

    program = models.ForeignKey("programs.Program", on_delete=models.CASCADE, related_name="+")
    monthly_budget_minor = models.BigIntegerField(null=True, blank=True)
    target_cpra_minor = models.BigIntegerField(null=True, blank=True)
    acquisition_cost_minor = models.BigIntegerField(null=True, blank=True)
    # Alert when the last week's evidence coverage falls below this share of the
    # previous four weeks' (basis points of the earlier value).
    coverage_alert_basis_points = models.PositiveIntegerField(default=8000)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "program"], name="analytics_targets_unique")
        ]


class ExportStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class ExportJob(TenantOwnedModel):
    """A large CSV export built in the background; the page polls `done`/`total`."""

    kind = models.CharField(max_length=20)
    params = models.JSONField(default=dict, blank=True)
    status = models.CharField(
        max_length=10, choices=ExportStatus.choices, default=ExportStatus.QUEUED
    )
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    content = models.TextField(blank=True)
    error = models.CharField(max_length=300, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["tenant", "created_at"])]
