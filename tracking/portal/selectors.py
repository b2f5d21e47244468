"""Reads for the customer portal: everything one participant may see, in a fixed number of
queries whatever the number of referrals and rewards (the portal is a hot path)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, Sum
from django.db.models.functions import Coalesce

from referral_platform.core import calendar, clock
from referral_platform.core.errors import NotFound

from ..selectors import referral_spec
from . import rules


def participant_for_portal(*, tenant_id: int, participant_id: int):
    """The participant a token or session names, inside its own tenant only; an erased one
    is gone for the portal. Missing and foreign look the same (404)."""
    from tracking.models import Participant

    participant = (
        Participant.unscoped.select_related("tenant")
        .filter(tenant_id=tenant_id, pk=participant_id, erased_at__isnull=True)
        .first()
    )
    if participant is None:
        raise NotFound("No such participant.")
    return participant


def participant_by_external_id(*, tenant, external_id: str):
    from tracking.models import Participant

    participant = (
        Participant.objects.for_tenant(tenant)
        .filter(external_id=external_id, erased_at__isnull=True)
        .first()
    )
    if participant is None:
        raise NotFound(
            "No participant with this external_id.", fields={"participant": ["not found"]}
        )
    return participant


@dataclass
class ShareButton:
    channel: str
    label: str
    href: str


@dataclass
class EnrollmentView:
    enrollment: object
    program: object
    code: str
    link: str
    qr_url: str
    poster_url: str
    copy_message: str
    wechat_message: str
    shares: list[ShareButton]
    offer: dict
    tier: rules.TierProgress | None = None
    tier_period: str = ""
    rank: int | None = None
    rank_needed: int = 0
    terms: str = ""
    ineligible: list[str] = field(default_factory=list)


@dataclass
class ReferralView:
    referral: object
    program_name: str
    who: str
    status: str
    status_text: str
    timeline: rules.Timeline


@dataclass
class RewardView:
    reward: object
    value: str
    state: str
    date_label: str
    date: datetime | None
    code: str = ""
    valid_until: datetime | None = None
    options: list[dict] = field(default_factory=list)
    can_choose: bool = False
    can_donate: bool = False
    # A fulfilled donation: the donor can download its certificate.
    certificate: bool = False


@dataclass
class CatalogueItem:
    """An item the participant's points can buy, from an enrolled program's catalogue."""

    enrollment_id: int
    key: str
    points: int
    text: str
    affordable: bool


@dataclass
class RedeemedItem:
    text: str
    points: int
    code: str
    valid_until: datetime | None
    redeemed_at: datetime


@dataclass
class PortalView:
    participant: object
    tenant: object
    enrollments: list[EnrollmentView]
    referrals: list[ReferralView]
    rewards: list[RewardView]
    choices: list[RewardView]
    coupons: list[RewardView]
    certificates: list[RewardView]
    balances: rules.Balances
    points_name: str
    disputes: list
    opted_out: bool
    catalogue: list[CatalogueItem] = field(default_factory=list)
    redeemed: list[RedeemedItem] = field(default_factory=list)


def _base_url() -> str:
    return settings.PUBLIC_BASE_URL


CHANNEL_LABELS = {
    "wechat": "WeChat",
    "whatsapp": "WhatsApp",
    "telegram": "Telegram",
    "email": None,
    "sms": None,
    "x": "X",
    "linkedin": "LinkedIn",
}


def _channel_label(channel: str) -> str:
    from django.utils.translation import gettext as _

    label = CHANNEL_LABELS.get(channel)
    if label:
        return label
    return {"email": _("Email"), "sms": _("SMS")}[channel]


def _success_counts(*, tenant, program, counts: str, start: datetime, end: datetime, referrer=None):
    """Referrer → number of counted stages whose period moment (the end of the hold, else the
    stage's own time: SEMANTICS §2) falls in `[start, end)`."""
    from tracking.models import ReferralStage

    spec = program.spec
    if counts.startswith("stage:"):
        keys = [counts.split(":", 1)[1]]
    else:
        keys = [s["key"] for s in spec.get("stages") or [] if s.get("success")]
    rows = (
        ReferralStage.objects.for_tenant(tenant)
        .filter(referral__program=program, stage_key__in=keys, reversed_at__isnull=True)
        .exclude(referral__status="rejected")
        .annotate(moment=Coalesce("due_at", "occurred_at"))
        .filter(moment__gte=start, moment__lt=end)
    )
    if referrer is not None:
        rows = rows.filter(referral__referrer=referrer)
    return dict(
        rows.values("referral__referrer_id")
        .annotate(n=Count("id"))
        .values_list("referral__referrer_id", "n")
    )


def _enrollment_view(participant, enrollment, code, now) -> EnrollmentView:

    program = enrollment.program
    spec = program.spec
    base = _base_url()
    link = f"{base}/r/{code}" if code else ""
    shares = []
    for channel in rules.SHARE_CHANNELS:
        if channel == "wechat":
            continue
        message = rules.share_message(spec, channel, program_name=program.name)
        shares.append(
            ShareButton(
                channel=channel,
                label=_channel_label(channel),
                href=rules.share_link(
                    channel,
                    url=rules.channel_url(link, channel),
                    message=message,
                    subject=program.name,
                ),
            )
        )
    view = EnrollmentView(
        enrollment=enrollment,
        program=program,
        code=code,
        link=link,
        qr_url=f"/qr/{code}.png" if code else "",
        poster_url=f"/qr/{code}/poster.png" if code else "",
        copy_message=rules.share_message(spec, "copy", program_name=program.name),
        wechat_message=rules.share_message(spec, "wechat", program_name=program.name),
        shares=shares,
        offer=rules.offer_sentences(spec),
        terms=(spec.get("offer") or {}).get("body", ""),
        ineligible=rules.ineligible_labels(spec, enrollment.ineligible_reasons or []),
    )
    cal = program.tenant.calendar
    tiers = spec.get("tiers") or []
    if tiers:
        period = tiers[0].get("period", "month")
        counts = tiers[0].get("counts", "success")
        start, end = calendar.period_bounds(calendar.period_key(now, period, cal), cal)
        mine = _success_counts(
            tenant=participant.tenant_id,
            program=program,
            counts=counts,
            start=start,
            end=end,
            referrer=participant,
        ).get(participant.pk, 0)
        same_period = [t for t in tiers if t.get("period", "month") == period]
        view.tier = rules.tier_progress(same_period, mine)
        view.tier_period = period
    season = spec.get("season")
    if season:
        period = season.get("period", "season")
        start, end = calendar.period_bounds(calendar.period_key(now, period, cal), cal)
        counts = _success_counts(
            tenant=participant.tenant_id,
            program=program,
            counts=season.get("metric", "success"),
            start=start,
            end=end,
        )
        view.rank = rules.rank_of(counts, participant.pk)
        view.rank_needed = int(season.get("min_successes") or 0)
    return view


def portal_overview(participant, *, now: datetime | None = None) -> PortalView:
    from analytics.selectors import held_out_programs
    from fraud.selectors import dispute_list_for_participant, referrer_facing_status
    from rewards.ledger import participant_account
    from rewards.models import LedgerEntry, Redemption, Reward
    from rewards.selectors import points_catalogue
    from tracking.models import Click, Enrollment, Referral

    now = now or clock.now()
    tenant = participant.tenant
    cal = tenant.calendar

    enrollments = []
    rows = (
        Enrollment.objects.for_tenant(tenant)
        .filter(participant=participant)
        .select_related("program", "program__current_version", "program__tenant")
        .prefetch_related("codes")
        .order_by("created_at")
    )
    rows = list(rows)
    # The programs' holdouts see no link, offer or widget (SEMANTICS §10).
    held_out = held_out_programs(
        tenant=tenant, participant_id=participant.pk, program_ids={e.program_id for e in rows}
    )
    for enrollment in rows:
        if enrollment.program_id in held_out:
            continue
        live = [c for c in enrollment.codes.all() if c.rotated_at is None]
        # A vanity code is the one the customer chose to share; otherwise the newest.
        live.sort(key=lambda c: (not c.is_vanity, -c.pk))
        code = live[0].code if live else ""
        enrollments.append(_enrollment_view(participant, enrollment, code, now))

    referrals = list(
        Referral.objects.for_tenant(tenant)
        .filter(referrer=participant)
        .select_related("referee", "program", "program_version")
        .prefetch_related("stages")
        .order_by("-created_at")
    )
    click_ids = [r.click_id for r in referrals if r.click_id]
    clicked = (
        dict(
            Click.objects.for_tenant(tenant)
            .filter(id__in=click_ids)
            .values_list("id", "created_at")
        )
        if click_ids
        else {}
    )

    def add_business_days(when, n):
        return calendar.add_business_days(when, n, cal)

    def add_days(when, n):
        return calendar.due_at(when, cal, days=n)

    referral_views = []
    for referral in referrals:
        spec = referral_spec(referral)
        timeline = rules.referral_timeline(
            spec=spec,
            clicked_at=clicked.get(referral.click_id),
            signed_up_at=referral.created_at,
            stages=[
                rules.StageFact(
                    key=s.stage_key,
                    status_set=s.status_set,
                    occurred_at=s.occurred_at,
                    due_at=s.due_at,
                    reversed_at=s.reversed_at,
                )
                for s in referral.stages.all()
            ],
            status=referral.status,
            add_business_days=add_business_days,
            add_days=add_days,
        )
        referee = referral.referee
        who = rules.mask_identity(email=referee.email, phone=referee.phone, name=referee.name)
        referral_views.append(
            ReferralView(
                referral=referral,
                program_name=referral.program.name,
                who=who,
                status=referral.status,
                status_text=str(referrer_facing_status(referral)),
                timeline=timeline,
            )
        )

    rewards = list(
        Reward.objects.for_tenant(tenant)
        .filter(participant=participant)
        .select_related("program", "program_version")
        .order_by("-created_at", "-id")
    )
    reward_views = [reward_view(r, now) for r in rewards]
    ledger_points = (
        LedgerEntry.objects.for_tenant(tenant)
        .filter(account=participant_account(participant.pk))
        .aggregate(p=Sum("points"))["p"]
        or 0
    )
    currency = rewards[0].program.currency if rewards else tenant.currency
    bal = rules.balances(
        [
            rules.RewardFact(
                id=r.pk,
                kind=r.kind,
                status=r.status,
                amount_minor=r.amount_minor,
                currency=r.currency,
                points=r.points,
                reversed_amount_minor=r.reversed_amount_minor,
            )
            for r in rewards
        ],
        ledger_points=ledger_points,
        currency=currency,
    )
    points_name = ""
    for e in enrollments:
        points_name = (e.program.spec.get("points") or {}).get("name", "") or points_name
    catalogue = [
        CatalogueItem(
            enrollment_id=e.enrollment.pk,
            key=item["key"],
            points=int(item["points"]),
            text=rules.reward_value_text(
                kind=item["reward"].get("kind", ""),
                amount_minor=item["reward"].get("amount"),
                currency=e.program.currency,
                points=None,
                description=item["reward"].get("description", ""),
            ),
            affordable=ledger_points >= int(item["points"]),
        )
        for e in enrollments
        for item in points_catalogue(e.program)
    ]
    redeemed = [
        RedeemedItem(
            text=rules.reward_value_text(
                kind=r.kind,
                amount_minor=r.amount_minor,
                currency=r.currency,
                points=None,
                description=r.description,
            ),
            points=r.points,
            code=r.code,
            valid_until=r.expires_at,
            redeemed_at=r.created_at,
        )
        for r in Redemption.objects.for_tenant(tenant)
        .filter(participant=participant)
        .order_by("-created_at", "-id")
    ]
    return PortalView(
        participant=participant,
        tenant=tenant,
        enrollments=enrollments,
        referrals=referral_views,
        rewards=reward_views,
        choices=[v for v in reward_views if v.can_choose],
        coupons=[
            v for v in reward_views if v.reward.kind == "coupon" and v.reward.status == "fulfilled"
        ],
        certificates=[v for v in reward_views if v.certificate],
        balances=bal,
        points_name=points_name,
        disputes=list(dispute_list_for_participant(participant)),
        opted_out=participant.opted_out_at is not None,
        catalogue=catalogue,
        redeemed=redeemed,
    )


def reward_view(reward, now: datetime) -> RewardView:
    from django.utils.translation import gettext as _

    from rewards.certificates import certificate_for_donor
    from rewards.services import donation_allowed

    value = rules.reward_value_text(
        kind=reward.kind,
        amount_minor=reward.amount_minor,
        currency=reward.currency,
        points=reward.points,
        description=reward.description,
    )
    state = rules.reward_state_text(
        status=reward.status, hold_reason=reward.hold_reason, blocked_reason=reward.blocked_reason
    )
    date_label, date = "", None
    if reward.status == "pending" and reward.hold_reason == "choice" and reward.choice_deadline:
        date_label, date = _("Choose by"), reward.choice_deadline
    elif reward.status == "pending" and reward.hold_reason != "review" and reward.due_at:
        date_label, date = _("Expected on"), reward.due_at
    elif reward.status == "approved" and reward.due_at:
        date_label, date = _("Approved on"), reward.approved_at or reward.due_at
    elif reward.status == "fulfilled" and reward.fulfilled_at:
        date_label, date = _("Received on"), reward.fulfilled_at
    elif reward.status == "reversed" and reward.reversed_at:
        date_label, date = _("Cancelled on"), reward.reversed_at
    details = reward.details or {}
    open_choice = (
        bool(reward.options)
        and reward.chosen_at is None
        and reward.status == "pending"
        and (reward.choice_deadline is None or reward.choice_deadline > now)
    )
    options = []
    for index, option in enumerate(reward.options or []):
        options.append(
            {
                "index": index,
                "text": rules.reward_value_text(
                    kind=option.get("kind", ""),
                    amount_minor=option.get("amount_minor", option.get("amount")),
                    currency=option.get("currency") or reward.currency,
                    points=option.get("points"),
                    description=option.get("description", ""),
                ),
                "chosen": bool(option.get("chosen")),
                "kind": option.get("kind", ""),
            }
        )
    return RewardView(
        reward=reward,
        value=value,
        state=state,
        date_label=date_label,
        date=date,
        code=str(details.get("code") or ""),
        valid_until=reward.expires_at if reward.status == "fulfilled" else None,
        options=options,
        can_choose=open_choice,
        can_donate=reward.status == "pending"
        and reward.chosen_at is None
        and donation_allowed(reward),
        certificate=certificate_for_donor(reward),
    )


def reward_view_get(participant, reward_id) -> RewardView:
    """One of the participant's rewards as the portal shows it; another's is NotFound."""
    from rewards.models import Reward

    reward = (
        Reward.objects.for_tenant(participant.tenant_id)
        .filter(pk=reward_id, participant=participant)
        .select_related("program", "program_version")
        .first()
    )
    if reward is None:
        raise NotFound("No such reward.")
    return reward_view(reward, clock.now())


def certificate_reward_get(participant, reward_id):
    """One of the participant's donations that has its certificate. Another participant's
    reward, one that is not a donation, not fulfilled yet, or of a program whose charity
    gives no certificates: NotFound alike."""
    from rewards.certificates import certificate_for_donor
    from rewards.models import Reward

    reward = (
        Reward.objects.for_tenant(participant.tenant_id)
        .filter(pk=reward_id, participant=participant)
        .select_related("program", "program_version", "participant")
        .first()
    )
    if reward is None or not certificate_for_donor(reward):
        raise NotFound("No such certificate.")
    return reward


# Below this many, "N friends joined" reads as a warning rather than as proof.
SOCIAL_PROOF_MIN = 3


def invite_extras(*, tenant, program, entry: dict) -> dict:
    """What the invite page shows beyond tracking's context: the referrer's personal note
    (set in the portal), how long the friend's offer lasts, and social proof."""
    from tracking.models import Enrollment, Referral

    note = ""
    if not entry.get("rotated") and entry.get("enrollment_id"):
        note = (
            Enrollment.objects.for_tenant(tenant)
            .filter(pk=entry["enrollment_id"])
            .values_list("personal_message", flat=True)
            .first()
        ) or ""
    spec = program.spec
    valid_days = max(
        (
            int(item.get("valid_days") or 0)
            for stage in spec.get("stages") or []
            for item in stage.get("rewards") or []
            if item.get("side") == "referee"
        ),
        default=0,
    )
    joined = (
        Referral.objects.for_tenant(tenant)
        .filter(program=program, created_at__gte=clock.now() - timedelta(days=30))
        .exclude(status="rejected")
        .count()
    )
    return {
        "personal_message": note,
        "offer_valid_days": valid_days,
        "offer_ends_at": program.ends_at,
        "friends_joined_30d": joined if joined >= SOCIAL_PROOF_MIN else 0,
    }
