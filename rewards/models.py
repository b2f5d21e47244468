"""Rewards (one row per item, SEMANTICS §5) and the append-only ledger."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from referral_platform.tenancy.scoping import TenantOwnedModel


class Side(models.TextChoices):
    REFERRER = "referrer", _("Referrer")
    REFEREE = "referee", _("Referee")


class RewardKind(models.TextChoices):
    CASH = "cash", _("Cash")
    COUPON = "coupon", _("Coupon")
    POINTS = "points", _("Points")
    CREDIT = "credit", _("Credit")
    PERK = "perk", _("Perk")
    LOTTERY_TICKET = "lottery_ticket", _("Lottery ticket")
    DONATION = "donation", _("Donation")


class RewardStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    APPROVED = "approved", _("Approved")
    FULFILLED = "fulfilled", _("Fulfilled")
    REVERSED = "reversed", _("Reversed")
    REJECTED = "rejected", _("Rejected")
    CAPPED = "capped", _("Capped")
    EXPIRED = "expired", _("Expired")


class HoldReason(models.TextChoices):
    HOLD = "hold", _("Hold window")
    REVIEW = "review", _("Fraud review")
    CHOICE = "choice", _("Waiting for a choice")


# The fixed head of `scope`, `reason` and `blocked_reason` (`<head>:<key>`, SEMANTICS §5) as
# staff read it; the key is the program's own (a stage, a cap) and is shown as written.
SCOPE_KINDS = {"referral": _("Referral"), "period": _("Period"), "team": _("Team")}
REASON_SOURCES = {
    "stage": _("Stage"),
    "bonus": _("Bonus"),
    "honor": _("Honour for a capped success"),
    "charity": _("Charity matching"),
    "tier": _("Tier"),
    "season": _("Season prize"),
    "lottery": _("Lottery"),
}
BLOCKED_REASONS = {
    "ineligible": _("Not eligible"),
    "fraud": _("Rejected after fraud review"),
    "cap": _("Cap reached"),
    "budget": _("The program's budget is spent"),
}


def coded_label(value: str, vocabulary: dict) -> str:
    """`stage:signup` → "Stage: signup" in the active language; an unknown head as stored."""
    head, _sep, key = value.partition(":")
    label = vocabulary.get(head)
    if label is None:
        return value
    return _("%(label)s: %(key)s") % {"label": label, "key": key} if key else str(label)


class Reward(TenantOwnedModel):
    program = models.ForeignKey(
        "programs.Program", on_delete=models.CASCADE, related_name="rewards"
    )
    program_version = models.ForeignKey(
        "programs.ProgramVersion", null=True, on_delete=models.PROTECT, related_name="+"
    )
    participant = models.ForeignKey(
        "tracking.Participant", on_delete=models.CASCADE, related_name="rewards"
    )
    referral = models.ForeignKey(
        "tracking.Referral", null=True, blank=True, on_delete=models.CASCADE, related_name="rewards"
    )
    side = models.CharField(max_length=10, choices=Side.choices)
    # `referral:<id>` or `period:<key>`; `reason` is `<source>:<rule key>` (SEMANTICS §5).
    scope = models.CharField(max_length=100)
    reason = models.CharField(max_length=150)
    rule_key = models.CharField(max_length=80, blank=True)
    kind = models.CharField(max_length=20, choices=RewardKind.choices)
    amount_minor = models.BigIntegerField(null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    points = models.BigIntegerField(null=True, blank=True)
    description = models.CharField(max_length=300, blank=True)
    # Alternatives when the beneficiary chooses: [{kind, amount_minor, currency, points,
    # description, chosen}]; `details` holds kind-specific terms (coupon percent_off,
    # max_amount, min_spend, valid_days, code; credit duration_days, estimated_value …).
    options = models.JSONField(default=list, blank=True)
    details = models.JSONField(default=dict, blank=True)
    status = models.CharField(
        max_length=10, choices=RewardStatus.choices, default=RewardStatus.PENDING
    )
    hold_reason = models.CharField(max_length=10, choices=HoldReason.choices, blank=True)
    blocked_reason = models.CharField(max_length=100, blank=True)
    boost = models.CharField(max_length=80, blank=True)
    explanation = models.CharField(max_length=500, blank=True)
    due_at = models.DateTimeField(null=True, blank=True)
    choice_deadline = models.DateTimeField(null=True, blank=True)
    chosen_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    reversed_amount_minor = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    approved_at = models.DateTimeField(null=True, blank=True)
    fulfilled_at = models.DateTimeField(null=True, blank=True)
    reversed_at = models.DateTimeField(null=True, blank=True)
    # The cap slot this item took, "<cap key>|<period key>" (SEMANTICS §5 Caps); a reversal
    # inside the hold frees it (`slot_freed`), so later referrals may take it.
    cap_slot = models.CharField(max_length=120, blank=True)
    slot_freed = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "participant", "scope", "reason"], name="reward_unique_item"
            ),
            models.CheckConstraint(
                condition=models.Q(amount_minor__isnull=True) | ~models.Q(currency=""),
                name="reward_amount_has_currency",
            ),
        ]
        indexes = [
            models.Index(fields=["tenant", "status", "due_at"]),
            models.Index(fields=["tenant", "participant", "created_at"]),
            models.Index(fields=["tenant", "program", "created_at"]),
        ]

    def scope_label(self) -> str:
        return coded_label(self.scope, SCOPE_KINDS)

    def reason_label(self) -> str:
        return coded_label(self.reason, REASON_SOURCES)

    def blocked_reason_label(self) -> str:
        return coded_label(self.blocked_reason, BLOCKED_REASONS)


class RewardBasis(TenantOwnedModel):
    """What a derived item (tier, ladder, season, lottery prize, team, ambassador) counted:
    one row per referral and stage it rests on (SEMANTICS §10 "Derived items"). A later
    rejection of that referral, or the reversal of that stage, reaches the item through it."""

    reward = models.ForeignKey(Reward, on_delete=models.CASCADE, related_name="basis")
    referral = models.ForeignKey(
        "tracking.Referral", on_delete=models.CASCADE, related_name="derived_rewards"
    )
    stage_key = models.CharField(max_length=80, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "reward", "referral", "stage_key"], name="reward_basis_unique"
            )
        ]
        indexes = [models.Index(fields=["tenant", "referral"])]


class LedgerEntryKind(models.TextChoices):
    CREDIT = "credit", _("Credit")
    REVERSAL = "reversal", _("Reversal")
    CLAWBACK = "clawback", _("Clawback")
    REDEMPTION = "redemption", _("Redemption")
    EXPIRY = "expiry", _("Expiry")


class LedgerEntry(TenantOwnedModel):
    """Append-only. Balances are sums. Each entry chains the hash of the previous entry of
    the same account, so an edit anywhere is detectable (`manage.py verify_ledger`). It holds
    no personal data, so the chain survives erasure."""

    participant = models.ForeignKey(
        "tracking.Participant", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # "participant:<id>", "charity:<program id>", "budget:<program id>"
    account = models.CharField(max_length=80)
    reward = models.ForeignKey(
        Reward, null=True, blank=True, on_delete=models.PROTECT, related_name="entries"
    )
    entry_kind = models.CharField(max_length=12, choices=LedgerEntryKind.choices)
    reward_kind = models.CharField(max_length=20, choices=RewardKind.choices, blank=True)
    amount_minor = models.BigIntegerField(default=0)
    currency = models.CharField(max_length=3, blank=True)
    points = models.BigIntegerField(default=0)
    memo = models.CharField(max_length=200, blank=True)
    prev_hash = models.CharField(max_length=64, blank=True)
    hash = models.CharField(max_length=64)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "reward", "entry_kind"],
                condition=models.Q(reward__isnull=False),
                name="ledger_one_entry_per_reward_kind",
            ),
        ]
        indexes = [models.Index(fields=["tenant", "account", "id"])]


class LedgerAccount(TenantOwnedModel):
    """The head of one account's hash chain. Appends lock this row, so entries of one
    account are strictly ordered and each carries its predecessor's hash."""

    account = models.CharField(max_length=80)
    head_hash = models.CharField(max_length=64, blank=True)
    entries_count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "account"], name="ledger_account_unique")
        ]


class RewardLock(TenantOwnedModel):
    """A row to `select_for_update` on: `participant:<id>` serialises every grant decision of
    one referrer (per-referrer caps), `program:<id>` those against a program budget."""

    key = models.CharField(max_length=120)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "key"], name="reward_lock_unique")]


class PayoutStatus(models.TextChoices):
    REQUESTED = "requested", _("Requested")
    PAID = "paid", _("Paid")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")


class BatchStatus(models.TextChoices):
    OPEN = "open", _("Open")
    APPROVED = "approved", _("Approved")
    PAID = "paid", _("Paid")


class PayoutBatch(TenantOwnedModel):
    """Cash payouts of one program and cadence period (weekly for small amounts, quarterly
    for the rest). Above the tenant's threshold, approval needs two different people."""

    program = models.ForeignKey("programs.Program", on_delete=models.CASCADE, related_name="+")
    cadence = models.CharField(max_length=10)  # week | quarter
    period_key = models.CharField(max_length=20)
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=10, choices=BatchStatus.choices, default=BatchStatus.OPEN)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    second_approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "program", "cadence", "period_key", "currency"],
                name="payout_batch_unique",
            )
        ]


class PayoutCancelReason(models.TextChoices):
    """Why a requested payout was withdrawn before it was paid (`payout.cancelled`)."""

    REVIEW = "review", _("Referral back in review")
    REJECTED = "rejected", _("Referral rejected")
    REVERSED = "reversed", _("Reward reversed")


class Payout(TenantOwnedModel):
    """A cash or gift-card reward handed to the tenant to pay (`payout.requested`)."""

    reward = models.ForeignKey(Reward, on_delete=models.PROTECT, related_name="payouts")
    batch = models.ForeignKey(
        PayoutBatch, null=True, blank=True, on_delete=models.SET_NULL, related_name="payouts"
    )
    # What the tenant pays: the reward's amount less `offset_minor`, cash the participant
    # owes back (taken back after an earlier payment) kept back from this payout (SEMANTICS
    # §10 "Net cash"). What is still owed after it carries to the next payout.
    amount_minor = models.BigIntegerField()
    offset_minor = models.BigIntegerField(default=0)
    currency = models.CharField(max_length=3)
    status = models.CharField(
        max_length=10, choices=PayoutStatus.choices, default=PayoutStatus.REQUESTED
    )
    failure_reason = models.CharField(max_length=300, blank=True)
    cancel_reason = models.CharField(max_length=10, choices=PayoutCancelReason.choices, blank=True)
    external_ref = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField()
    settled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            # At most one live payout per reward: a failed one may be followed by a new one.
            models.UniqueConstraint(
                fields=["tenant", "reward"],
                condition=models.Q(status__in=["requested", "paid"]),
                name="payout_one_live_per_reward",
            )
        ]
        indexes = [models.Index(fields=["tenant", "status", "created_at"])]

    @property
    def gross_amount_minor(self) -> int:
        return self.amount_minor + self.offset_minor


class CouponPool(TenantOwnedModel):
    program = models.ForeignKey("programs.Program", on_delete=models.CASCADE, related_name="+")
    # The reward item (rule key) whose coupons this pool serves.
    rule_key = models.CharField(max_length=80)
    name = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "program", "rule_key"], name="coupon_pool_unique"
            )
        ]


class CouponCode(TenantOwnedModel):
    pool = models.ForeignKey(CouponPool, on_delete=models.CASCADE, related_name="codes")
    code = models.CharField(max_length=100)
    reward = models.OneToOneField(
        Reward, null=True, blank=True, on_delete=models.PROTECT, related_name="pool_code"
    )
    redemption = models.OneToOneField(
        "Redemption", null=True, blank=True, on_delete=models.PROTECT, related_name="pool_code"
    )
    assigned_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "pool", "code"], name="coupon_code_unique")
        ]
        indexes = [models.Index(fields=["tenant", "pool", "reward"])]


class LotteryDraw(TenantOwnedModel):
    """A draw's seed is committed (its SHA-256 published) before the draw opens and revealed
    after, so anyone can recompute the winners from the ticket list."""

    program = models.ForeignKey("programs.Program", on_delete=models.CASCADE, related_name="+")
    draw_key = models.CharField(max_length=80)
    period_key = models.CharField(max_length=20)
    seed_hash = models.CharField(max_length=64)
    seed = models.CharField(max_length=64, blank=True)  # revealed after the draw
    tickets = models.JSONField(default=list, blank=True)
    winners = models.JSONField(default=list, blank=True)
    committed_at = models.DateTimeField()
    drawn_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "program", "draw_key", "period_key"], name="lottery_draw_unique"
            )
        ]


class RewardSettings(TenantOwnedModel):
    """Per-tenant payout policy."""

    second_approval_above_minor = models.BigIntegerField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant"], name="reward_settings_one_per_tenant")
        ]


class NotificationOptOut(TenantOwnedModel):
    participant = models.ForeignKey(
        "tracking.Participant", on_delete=models.CASCADE, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "participant"], name="notification_optout_unique"
            )
        ]


class PeriodClose(TenantOwnedModel):
    """A period-level decision taken once (a season closed): late events never re-rank it."""

    program = models.ForeignKey("programs.Program", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=20)  # season
    period_key = models.CharField(max_length=20)
    closed_at = models.DateTimeField()
    result = models.JSONField(default=list, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "program", "kind", "period_key"], name="period_close_unique"
            )
        ]


class Redemption(TenantOwnedModel):
    """Points spent on an item of a program's catalogue (`spec.points.catalogue`). The debit
    is its ledger entry (`redemption`, negative points); the item issued is kept here: a
    coupon's code and terms, or an entitlement (a perk or credit) until `expires_at`. Not a
    Reward: nothing is earned, so reward counts and costs never see the points twice."""

    program = models.ForeignKey("programs.Program", on_delete=models.CASCADE, related_name="+")
    participant = models.ForeignKey(
        "tracking.Participant", on_delete=models.CASCADE, related_name="redemptions"
    )
    item_key = models.CharField(max_length=80)
    points = models.PositiveIntegerField()
    kind = models.CharField(max_length=20, choices=RewardKind.choices)
    amount_minor = models.BigIntegerField(null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    description = models.CharField(max_length=300, blank=True)
    # The item's terms as the catalogue gave them: percent_off, max_amount, min_spend,
    # valid_days, duration_days, estimated_value.
    details = models.JSONField(default=dict, blank=True)
    code = models.CharField(max_length=100, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    ledger_entry = models.OneToOneField(
        LedgerEntry, on_delete=models.PROTECT, related_name="redemption"
    )
    # The caller's key (an API Idempotency-Key, a portal form's nonce): one redemption each.
    idempotency_key = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "participant", "idempotency_key"],
                condition=~models.Q(idempotency_key=""),
                name="redemption_idempotency_unique",
            ),
            models.CheckConstraint(
                condition=models.Q(points__gt=0), name="redemption_costs_points"
            ),
        ]
        indexes = [models.Index(fields=["tenant", "participant", "created_at"])]
