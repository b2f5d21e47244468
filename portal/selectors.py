"""Reads for the customer portal: everything one participant may see, in a fixed number of
queries whatever the number of referrals and rewards (the portal is a hot path)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, Sum
from django.db.models.functions import Coalesce
from django.utils import translation

from programs.copy import copy_in
from programs.engine import (
    ParticipantFact,
    ReferralFacts,
    expected_dates,
    spec_for_variants,
    variants_decode,
)
from programs.engine.rewards import participant_context
from programs.holdout import held_out_programs
from programs.pause import new_referrals_paused
from referral_platform.core import calendar, clock
from referral_platform.core.errors import NotFound
from rewards import selectors as rewards_selectors
from tracking.selectors import channel_label, referral_spec

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


def held_out_everywhere(participant) -> bool:
    """Whether every program that would show this participant a link holds them out
    (SEMANTICS §10): the programs they are enrolled in, else the tenant's live ones. Such a
    customer gets no widget; the portal shows them the non-program page."""
    from programs.models import Program, ProgramStatus

    programs = list(
        Program.objects.for_tenant(participant.tenant_id)
        .filter(enrollments__participant=participant)
        .select_related("current_version")
        .distinct()
    ) or list(
        Program.objects.for_tenant(participant.tenant_id)
        .filter(status=ProgramStatus.ACTIVE)
        .select_related("current_version")
    )
    return bool(programs) and len(held_out_programs(programs, participant.pk)) == len(programs)


@dataclass(frozen=True)
class ReferrerCounts:
    successful: int
    in_hold: int
    rejected: int


def success_statuses(spec) -> set[str]:
    """The referral statuses that mean the success stage was reached: its own and those of
    the stages after it (SEMANTICS §2)."""
    stages = spec.get("stages") or []
    start = next((i for i, s in enumerate(stages) if s.get("success")), len(stages) - 1)
    return {s["status"] for s in stages[max(start, 0) :] if s.get("status")}


def referrer_counts(*, tenant, participant, program) -> ReferrerCounts:
    """Successful, in hold and rejected referrals of one referrer in one program, read
    through the selectors behind `GET /referrals` and `GET /rewards`, so the portal and the
    API cannot disagree. In hold: in fraud review, or with a referrer reward still pending."""
    from django.db.models import Q

    from rewards.selectors import reward_list
    from tracking.selectors import referral_list

    referrals = referral_list(
        tenant=tenant, filters={"referrer": participant.external_id, "program": program.slug}
    )
    held = (
        reward_list(
            tenant=tenant,
            participant=participant.external_id,
            status="pending",
            program=program.slug,
        )
        .filter(side="referrer", referral__isnull=False)
        .values("referral_id")
    )
    row = referrals.aggregate(
        successful=Count("id", filter=Q(status__in=success_statuses(program.spec))),
        rejected=Count("id", filter=Q(status="rejected")),
        in_hold=Count("id", filter=~Q(status="rejected") & (Q(status="review") | Q(pk__in=held))),
    )
    return ReferrerCounts(**row)


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

    @property
    def tier_heading(self) -> str:
        return str(rules.PERIOD_HEADINGS.get(self.tier_period, rules.PERIOD_HEADINGS["lifetime"]))

    rank: int | None = None
    rank_needed: int = 0
    # The program's terms in the page's language, else (a program without terms) the
    # offer's own words; its FAQ for referrers in that language, else the other's
    # (programs.copy).
    terms: str = ""
    faq: list[dict] = field(default_factory=list)
    ineligible: list[str] = field(default_factory=list)
    counts: ReferrerCounts | None = None
    board: list = field(default_factory=list)
    draws: list = field(default_factory=list)
    team: TeamView | None = None
    # Paused (programs.pause): nothing to share until the program resumes.
    paused: bool = False


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
    label: str
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
    # A referrer's reward: the friend (masked, as in the referrals list) it was earned for.
    friend: str = ""


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
    ambassador: bool = False  # holds ambassador status in one of the programs
    # With no program of their own: the live programs they may join here for a link.
    joinable: list = field(default_factory=list)

    @property
    def generic_faq(self) -> bool:
        """The product's own questions, where a program of the page has none of its own."""
        return not self.enrollments or any(not e.faq for e in self.enrollments)


def _base_url() -> str:
    return settings.PUBLIC_BASE_URL


def _counted_stages(*, tenant, program, counts: str, start: datetime, end: datetime, now=None):
    """The counted stages (successes, or the stage the program names) whose period moment
    (the end of the hold, else the stage's own time: SEMANTICS §2) falls in `[start, end)`
    and has passed: what the tiers and the season count (SEMANTICS §10 "Derived items":
    referrals that cleared fraud review and their holds), not one in review or still held."""
    end = min(end, now or clock.now())
    from tracking.models import ReferralStage

    spec = program.spec
    if counts.startswith("stage:"):
        keys = [counts.split(":", 1)[1]]
    else:
        keys = [s["key"] for s in spec.get("stages") or [] if s.get("success")]
    return (
        ReferralStage.objects.for_tenant(tenant)
        .filter(referral__program=program, stage_key__in=keys, reversed_at__isnull=True)
        .exclude(referral__status__in=("review", "rejected"))
        .annotate(moment=Coalesce("due_at", "occurred_at"))
        .filter(moment__gte=start, moment__lt=end)
    )


def _success_counts(
    *, tenant, program, counts: str, start: datetime, end: datetime, referrer=None, now=None
):
    """Referrer → number of counted stages in `[start, end)` (up to `now`)."""
    rows = _counted_stages(
        tenant=tenant, program=program, counts=counts, start=start, end=end, now=now
    )
    if referrer is not None:
        rows = rows.filter(referral__referrer=referrer)
    return dict(
        rows.values("referral__referrer_id")
        .annotate(n=Count("id"))
        .values_list("referral__referrer_id", "n")
    )


@dataclass(frozen=True)
class BoardRow:
    rank: int
    who: str
    count: int
    is_me: bool


LEADERBOARD_TOP = 5


def season_board(*, tenant, program, participant, now: datetime) -> tuple[int | None, list]:
    """The participant's rank in the current season and its top rows, ranked by the engine
    (`season_ranking`: qualification, ties to whoever got there first); names masked."""
    from programs.engine import Standing, season_ranking
    from tracking.models import Participant

    season = program.spec.get("season") or {}
    cal = program.tenant.calendar
    start, end = calendar.period_bounds(
        calendar.period_key(now, season.get("period", "season"), cal), cal
    )
    rows = _counted_stages(
        tenant=tenant,
        program=program,
        counts=season.get("metric", "success"),
        start=start,
        end=end,
        now=now,
    )
    per_referrer: dict[int, list[datetime]] = {}
    for referrer_id, moment in rows.values_list("referral__referrer_id", "moment"):
        per_referrer.setdefault(referrer_id, []).append(moment)
    standings = [
        Standing(pid, len(moments), len(moments), max(moments))
        for pid, moments in per_referrer.items()
    ]
    ranking = season_ranking(program.spec, standings)
    rank = next((n for n, s in enumerate(ranking, 1) if s.participant_id == participant.pk), None)
    top = ranking[:LEADERBOARD_TOP]
    names = dict(
        Participant.objects.for_tenant(tenant)
        .filter(pk__in=[s.participant_id for s in top])
        .values_list("pk", "name")
    )
    board = [
        BoardRow(
            rank=n,
            who=rules.mask_identity(name=names.get(s.participant_id) or "") or "—",
            count=s.count,
            is_me=s.participant_id == participant.pk,
        )
        for n, s in enumerate(top, 1)
    ]
    return rank, board


@dataclass(frozen=True)
class TeamView:
    code: str
    members_paid: int
    complete: bool
    min_members: int
    max_members: int
    within_days: int


def team_standing(*, tenant, program, code: str) -> TeamView | None:
    """The referrer's team: whose purchases declared their code, and whether the team counts,
    which is the engine's decision persisted by the team sweep (live items under the scope
    `team:<code>`, SEMANTICS §10)."""
    from rewards.models import Reward
    from tracking.models import Event

    team = program.spec.get("team")
    if not team or not code:
        return None
    prop = team.get("property") or "team_code"
    members = (
        Event.objects.for_tenant(tenant)
        .filter(type="purchase", participant__isnull=False)
        .filter(**{f"payload__properties__{prop}__iexact": code})
        .values("participant_id")
        .distinct()
        .count()
    )
    complete = (
        Reward.objects.for_tenant(tenant)
        .filter(program=program, scope=f"team:{code}", status__in=rules.LIVE_STATUSES)
        .exists()
    )
    return TeamView(
        code=code,
        members_paid=members,
        complete=complete,
        min_members=int(team.get("min_members") or 2),
        max_members=int(team.get("max_members") or 4),
        within_days=int(team.get("within_days") or 7),
    )


@dataclass(frozen=True)
class DrawView:
    key: str
    period: str
    seed_hash: str
    seed: str
    drawn_at: datetime | None
    tickets: int
    winners: list
    my_tickets: list


def lottery_results(*, tenant, program, participant, limit: int = 3) -> list[DrawView]:
    """The latest draws of the program: the commitment published before each draw and, once
    drawn, the revealed seed, the ticket list's size and the winning tickets (names masked),
    so a participant can recompute the winners (SEMANTICS §5 Lottery)."""
    from rewards.models import LotteryDraw
    from tracking.models import Participant

    draws = list(
        LotteryDraw.objects.for_tenant(tenant)
        .filter(program=program)
        .order_by("-committed_at", "-pk")[:limit]
    )
    winner_ids = {w.get("participant") for d in draws for w in d.winners or []}
    names = dict(
        Participant.objects.for_tenant(tenant).filter(pk__in=winner_ids).values_list("pk", "name")
    )
    mine = {
        str(pk)
        for pk in participant.rewards.filter(kind="lottery_ticket").values_list("pk", flat=True)
    }
    out = []
    for d in draws:
        drawn = d.drawn_at is not None
        out.append(
            DrawView(
                key=d.draw_key,
                period=d.period_key,
                seed_hash=d.seed_hash,
                seed=d.seed if drawn else "",
                drawn_at=d.drawn_at,
                tickets=len(d.tickets or []),
                winners=[
                    {
                        "ticket": w["ticket"],
                        "prize": w.get("prize", ""),
                        "who": rules.mask_identity(name=names.get(w.get("participant")) or "")
                        or "—",
                        "mine": w["ticket"] in mine,
                    }
                    for w in (d.winners or [])
                ]
                if drawn
                else [],
                my_tickets=sorted(t for t in (d.tickets or []) if t in mine) if drawn else [],
            )
        )
    return out


def _enrollment_view(participant, enrollment, code, now) -> EnrollmentView:

    program = enrollment.program
    # The referrer's share texts and offer as their experiment variants make them, in the
    # page's language; the FAQ entries for referrers and for everyone.
    spec = copy_in(
        spec_for_variants(program.spec, variants_decode(enrollment.variant)),
        translation.get_language() or "",
        audience="referrer",
    )
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
                label=channel_label(channel),
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
        offer=rules.offer_sentences(
            spec,
            referrer=participant_context(
                ParticipantFact(
                    id=participant.pk,
                    attributes=dict(participant.attributes or {}),
                    segments=tuple(participant.segments or ()),
                )
            ),
            now=now,
        ),
        terms=spec.get("terms") or (spec.get("offer") or {}).get("body", ""),
        faq=spec.get("faq") or [],
        paused=new_referrals_paused(program.status),
        ineligible=rules.ineligible_labels(spec, enrollment.ineligible_reasons or []),
        counts=referrer_counts(
            tenant=participant.tenant_id, participant=participant, program=program
        ),
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
            now=now,
        ).get(participant.pk, 0)
        same_period = [t for t in tiers if t.get("period", "month") == period]
        view.tier = rules.tier_progress(same_period, mine)
        view.tier_period = period
    season = spec.get("season")
    if season:
        view.rank, view.board = season_board(
            tenant=participant.tenant_id, program=program, participant=participant, now=now
        )
        view.rank_needed = int(season.get("min_successes") or 0)
    if spec.get("team"):
        view.team = team_standing(tenant=participant.tenant_id, program=program, code=code)
    if spec.get("lottery"):
        view.draws = lottery_results(
            tenant=participant.tenant_id, program=program, participant=participant
        )
    return view


def _timing_facts(referral) -> ReferralFacts:
    """The facts `programs.engine.expected_dates` reads (the sign-up time); the portal needs
    no events to show when the engine expects the next step."""
    return ReferralFacts(
        referral_id=referral.pk,
        created_at=referral.created_at,
        referrer=ParticipantFact(id=referral.referrer_id),
        referee=ParticipantFact(id=referral.referee_id),
        status=referral.status,
    )


def portal_overview(participant, *, now: datetime | None = None) -> PortalView:
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
    held_out = held_out_programs([e.program for e in rows], participant.pk)
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
            expected=expected_dates(spec, _timing_facts(referral), cal),
            now=now,
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
    friends = {v.referral.pk: v.who for v in referral_views}
    for view in reward_views:
        view.friend = friends.get(view.reward.referral_id, "")
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
        cash_debt_minor=_cash_debt(tenant, participant, currency, rewards),
        donated_minor=rewards_selectors.participant_donated_minor(
            tenant=tenant, participant_id=participant.pk
        ),
    )
    points_name = ""
    for e in enrollments:
        points_name = (e.program.spec.get("points") or {}).get("name", "") or points_name
    catalogue = [
        CatalogueItem(
            enrollment_id=e.enrollment.pk,
            key=item["key"],
            points=int(item["points"]),
            text=rules.item_text(
                kind=item["reward"].get("kind", ""),
                amount_minor=item["reward"].get("amount"),
                currency=e.program.currency,
                points=None,
                description=item["reward"].get("description", ""),
                details=item["reward"],
            ),
            affordable=ledger_points >= int(item["points"]),
        )
        for e in enrollments
        for item in points_catalogue(e.program)
    ]
    redeemed = [
        RedeemedItem(
            text=rules.item_text(
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
        ambassador=any(
            (r.details or {}).get("status") == "ambassador"
            and r.status in ("pending", "approved", "fulfilled")
            for r in rewards
        ),
        joinable=[] if rows else joinable_programs(participant),
    )


def joinable_programs(participant) -> list:
    """The tenant's programs a customer may join from the portal and get a link (DESIGN:
    "or the participant opens the portal"): live and taking new referrals, not holding them
    out; none for a lead (a friend not known as a customer yet) or one who opted out."""
    from programs.models import Program, ProgramStatus

    if participant.is_lead or participant.opted_out_at is not None:
        return []
    programs = list(
        Program.objects.for_tenant(participant.tenant_id)
        .filter(status=ProgramStatus.ACTIVE)
        .exclude(enrollments__participant=participant)
        .select_related("current_version")
        .order_by("name", "pk")
    )
    held_out = held_out_programs(programs, participant.pk)
    return [p for p in programs if p.pk not in held_out and not new_referrals_paused(p.status)]


def reward_view(reward, now: datetime) -> RewardView:
    from django.utils.translation import gettext as _

    from rewards.certificates import certificate_for_donor
    from rewards.services import donation_allowed

    details = reward.details or {}
    spec = reward.program_version.spec if reward.program_version_id else reward.program.spec
    points_name = (spec.get("points") or {}).get("name", "")
    value = rules.reward_value_text(
        kind=reward.kind,
        amount_minor=reward.amount_minor,
        currency=reward.currency,
        points=reward.points,
        description=reward.description,
        details=details,
        points_name=points_name,
    )
    state = rules.reward_state_text(
        status=reward.status, hold_reason=reward.hold_reason, blocked_reason=reward.blocked_reason
    )
    date_label, date = "", None
    if reward.status == "pending" and reward.hold_reason == "choice" and reward.choice_deadline:
        if reward.choice_deadline > now:
            date_label, date = _("Choose by"), reward.choice_deadline
    elif reward.status == "pending" and reward.hold_reason != "review" and reward.due_at:
        # The engine's date while it is ahead; once passed, the next release run pays it.
        if reward.due_at > now:
            date_label, date = _("Expected on"), reward.due_at
        else:
            state = _("Due now: released at the next check")
    elif reward.status == "approved" and reward.due_at:
        date_label, date = _("Approved on"), reward.approved_at or reward.due_at
    elif reward.status == "fulfilled" and reward.fulfilled_at:
        date_label, date = _("Received on"), reward.fulfilled_at
    elif reward.status == "reversed" and reward.reversed_at:
        date_label, date = _("Cancelled on"), reward.reversed_at
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
                    details={**option, **(option.get("details") or {})},
                    points_name=points_name,
                ),
                "chosen": bool(option.get("chosen")),
                "kind": option.get("kind", ""),
            }
        )
    return RewardView(
        reward=reward,
        value=value,
        label=rules.reward_label(value=value, description=reward.description),
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

    note, name = "", ""
    if not entry.get("rotated") and entry.get("enrollment_id"):
        # The name is read here rather than from the cached code entry, which another web
        # process may keep for a few seconds: an erased referrer is gone from the page at once.
        row = (
            Enrollment.objects.for_tenant(tenant)
            .filter(pk=entry["enrollment_id"], participant__erased_at__isnull=True)
            .values_list("personal_message", "participant__name")
            .first()
        )
        note, name = row or ("", "")
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
        .exclude(status__in=("review", "rejected"))  # not while fraud checks them
        .count()
    )
    return {
        "referrer_name": name or "",
        "personal_message": note or "",
        "offer_valid_days": valid_days,
        "offer_ends_at": program.ends_at,
        "friends_joined_30d": joined if joined >= SOCIAL_PROOF_MIN else 0,
    }


def _cash_debt(tenant, participant, currency: str, rewards) -> int:
    """Cash taken back after it was paid, not yet settled by a paid payout. Only a paid
    cash reward taken back makes a debt: without one, no query."""
    from rewards.selectors import cash_positions

    if not any(
        r.kind == "cash" and r.status == "reversed" and r.fulfilled_at is not None for r in rewards
    ):
        return 0

    position = cash_positions(tenant_id=tenant.pk, participant_id=participant.pk).get(currency)
    return max(0, -position.balance_minor) if position is not None else 0
