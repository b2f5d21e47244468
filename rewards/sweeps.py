"""Period-level work the engine decides and rewards persists (SEMANTICS §0): tiers and
ladders, season closes, lottery draws (commit-reveal), points expiry. Each function is safe
to run at any moment and any number of times."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction

from referral_platform.core import calendar, clock

from . import engine_bridge, ledger, rules
from .models import (
    LedgerAccount,
    LedgerEntry,
    LedgerEntryKind,
    LotteryDraw,
    PeriodClose,
    Reward,
    RewardKind,
    RewardStatus,
)
from .services import later_company_referrals, period_rewards_persist

TIER_LOOKBACK = timedelta(days=400)  # a yearly ladder is the longest tier period
# How long a season's close waits for ops to decide its referrals still in review; after
# that it closes without them.
SEASON_REVIEW_WAIT = timedelta(days=30)


# How long an ended program's obligations still run: its last season and lottery close,
# its yearly ladder completes and its points expire.
AFTER_END = timedelta(days=400)


def _active_programs(now: datetime):
    """Programs whose periodic obligations still run: active and paused ones, and ended ones
    for `AFTER_END` after they ended (the periods themselves are bounded by the program's
    life, `rules.period_in_program`)."""
    from django.db.models import Q
    from django.db.models.functions import Coalesce

    from programs.models import Program

    recently = now - AFTER_END
    return (
        Program.unscoped.filter(current_version__isnull=False)
        .annotate(ended_at=Coalesce("ends_at", "updated_at"))
        .filter(Q(status__in=["active", "paused"]) | Q(status="ended", ended_at__gte=recently))
        .select_related("tenant", "current_version")
    )


def _participant_fact(participant):
    from programs.engine.types import ParticipantFact

    return ParticipantFact(
        id=participant.pk,
        attributes=dict(participant.attributes or {}),
        segments=tuple(participant.segments or ()),
    )


# Referral statuses that have not cleared fraud review: nothing derived counts them
# (SEMANTICS §10 "Derived items"); a `review` one is counted once ops approves it.
NOT_CLEARED = ("review", "rejected")


def _reached_stages(program, *, since: datetime, until: datetime):
    from tracking.models import ReferralStage

    return ReferralStage.unscoped.filter(
        tenant_id=program.tenant_id,
        referral__program=program,
        reversed_at__isnull=True,
        due_at__isnull=False,
        due_at__gte=since,
        due_at__lte=until,
    )


def _counted_facts(program, *, since: datetime, until: datetime) -> dict[int, list]:
    """Reached, not reversed stages of the program's referrals that cleared fraud review,
    per referrer (the engine counts only those whose hold has ended). With
    `first_team_of_company_only`, a later team of a company already referred counts for
    nothing (SCENARIOS A), as it earns nothing."""
    from programs.engine.period import CountedFact

    success_keys = {s["key"] for s in program.spec.get("stages") or [] if s.get("success")}
    rows = list(
        _reached_stages(program, since=since, until=until)
        .exclude(referral__status__in=NOT_CLEARED)
        .values_list("referral__referrer_id", "referral_id", "stage_key", "occurred_at", "due_at")
    )
    skipped: set[int] = set()
    if program.spec.get("first_team_of_company_only") and rows:
        skipped = later_company_referrals(
            tenant_id=program.tenant_id,
            program_id=program.pk,
            referral_ids={row[1] for row in rows},
        )
    out: dict[int, list] = {}
    for referrer_id, referral_id, stage_key, occurred_at, due_at in rows:
        if referral_id in skipped:
            continue
        out.setdefault(referrer_id, []).append(
            CountedFact(referral_id, stage_key, occurred_at, due_at, stage_key in success_keys)
        )
    return out


def tiers_evaluate(*, now: datetime | None = None) -> int:
    from tracking.models import Participant

    evaluate_tiers = engine_bridge.evaluate_tiers
    now = now or clock.now()
    created = 0
    for program in _active_programs(now):
        spec = program.spec
        if not spec.get("tiers"):
            continue
        cal = program.tenant.calendar
        logs = _counted_facts(program, since=now - TIER_LOOKBACK, until=now)
        referrers = Participant.unscoped.in_bulk(list(logs))
        for referrer_id, log in logs.items():
            decisions = evaluate_tiers(
                spec, _participant_fact(referrers[referrer_id]), log, now, cal
            )
            created += len(
                period_rewards_persist(tenant=program.tenant, program=program, decisions=decisions)
            )
    return created


def _previous_period(now: datetime, period: str, cal) -> tuple[str, datetime]:
    start, _ = calendar.period_bounds(calendar.period_key(now, period, cal), cal)
    prev = calendar.period_key(start - timedelta(seconds=1), period, cal)
    return prev, start


def seasons_close(*, now: datetime | None = None) -> int:
    from programs.engine.period import Standing

    evaluate = engine_bridge.evaluate_season_close
    now = now or clock.now()
    created = 0
    for program in _active_programs(now):
        season = program.spec.get("season")
        if not season:
            continue
        cal = program.tenant.calendar
        key, closed_at = _previous_period(now, season.get("period", "season"), cal)
        start, end = calendar.period_bounds(key, cal)
        # A season before the program started (or after it ended) was never run: closing
        # it would record an empty close.
        if not rules.period_in_program(
            start=start, end=end, starts_at=program.starts_at, ends_at=program.ends_at
        ):
            continue
        if PeriodClose.unscoped.filter(
            tenant_id=program.tenant_id, program=program, kind="season", period_key=key
        ).exists():
            continue
        in_window = _reached_stages(program, since=start, until=end - timedelta(microseconds=1))
        if now < end + SEASON_REVIEW_WAIT and in_window.filter(referral__status="review").exists():
            continue  # the ranking waits for ops to decide the season's referrals in review
        metric = season.get("metric", "success")
        standings = []
        for referrer_id, log in _counted_facts(
            program, since=start, until=end - timedelta(microseconds=1)
        ).items():
            counted = sorted(
                (
                    f
                    for f in log
                    if (f.success if metric == "success" else f.stage_key == metric[6:])
                ),
                key=lambda f: f.due_at,
            )
            if counted:
                standings.append(
                    Standing(
                        referrer_id,
                        len(counted),
                        sum(1 for f in log if f.success),
                        counted[-1].due_at,
                        basis=tuple((f.referral_id, f.stage_key) for f in log),
                    )
                )
        decisions = evaluate(program.spec, standings, key, closed_at=closed_at)
        try:
            with transaction.atomic():
                PeriodClose.unscoped.create(
                    tenant_id=program.tenant_id,
                    program=program,
                    kind="season",
                    period_key=key,
                    closed_at=now,
                    result=[
                        {"participant": d.beneficiary_id, "reason": d.reason} for d in decisions
                    ],
                )
                created += len(
                    period_rewards_persist(
                        tenant=program.tenant, program=program, decisions=decisions
                    )
                )
        except IntegrityError:
            continue  # closed concurrently
    return created


# --- Teams ------------------------------------------------------------------------------------

# A team changes only when a purchase carrying its code arrives: the codes of purchases
# received this recently are evaluated again (generous, so a stopped beat loses nothing).
TEAM_LOOKBACK = timedelta(days=7)


def teams_evaluate(*, now: datetime | None = None) -> int:
    """Team enrolment (SEMANTICS §5 Teams): a purchase declares its team in the event
    property the program's `team.property` names (`team_code`, SEMANTICS §6), whose value is
    the team leader's referral code. The engine decides from every purchase of that code, the
    members' later refunds and reversing events, and the leader's attributes whether 2–4
    members paid within the window and still count, and what each member and the leader get;
    the items are persisted under scope `team:<code>`, so nothing is given twice, and the
    items it reports reversed are reversed (or clawed back) once."""
    from django.db.models import Q

    from programs.engine import EventFact, TeamMember, team_evaluate
    from tracking.codes import normalize_code
    from tracking.models import Event, Participant, Referral, ReferralCode

    from .services import LIVE, team_rewards_reverse

    now = now or clock.now()
    created = 0
    for program in _active_programs(now):
        team = program.spec.get("team")
        if not team:
            continue
        prop = team.get("property") or "team_code"
        undo_types = _undo_types(program.spec)
        purchases = Event.unscoped.filter(
            tenant_id=program.tenant_id, type="purchase", participant__isnull=False
        )
        declared = purchases.filter(**{f"payload__properties__{prop}__isnull": False})
        since = now - TEAM_LOOKBACK
        # A refund or a class transfer carries no team code: the teams of its participant's
        # team purchases are evaluated again too.
        touched = Event.unscoped.filter(
            tenant_id=program.tenant_id,
            type__in=undo_types,
            received_at__gte=since,
            participant__isnull=False,
        ).values("participant_id")
        # A member's referral rejected (or cleared) after review changes what counts too.
        decided = Referral.unscoped.filter(
            tenant_id=program.tenant_id, program=program, status_changed_at__gte=since
        ).values("referee_id")
        recent = declared.filter(
            Q(status="processed", received_at__gte=since)
            | Q(participant_id__in=touched)
            | Q(participant_id__in=decided)
        ).values_list("payload", flat=True)
        wanted = {normalize_code(str(p["properties"][prop])) for p in recent}
        leaders = dict(
            ReferralCode.unscoped.filter(
                tenant_id=program.tenant_id, program=program, code__in=wanted
            ).values_list("code", "enrollment__participant_id")
        )
        cal = program.tenant.calendar
        for code, leader_id in sorted(leaders.items()):
            paid: dict[int, EventFact] = {}
            rows = purchases.filter(**{f"payload__properties__{prop}__iexact": code}).order_by(
                "occurred_at", "pk"
            )
            for event in rows:
                paid.setdefault(event.participant_id, _event_fact(event))
            later: dict[int, list] = {}
            if paid:
                followed = Event.unscoped.filter(
                    tenant_id=program.tenant_id,
                    participant_id__in=list(paid),
                    type__in=undo_types,
                    occurred_at__gte=min(p.occurred_at for p in paid.values()),
                ).order_by("occurred_at", "pk")
                for event in followed:
                    later.setdefault(event.participant_id, []).append(_event_fact(event))
            referred = {
                r.referee_id: r
                for r in Referral.unscoped.filter(
                    tenant_id=program.tenant_id, program=program, referee_id__in=list(paid)
                )
            }
            if any(r.status == "review" for r in referred.values()):
                continue  # the team waits for ops to decide its members in review
            people = Participant.unscoped.in_bulk([*paid, leader_id])
            discounts = _referee_discounts(program, list(paid), LIVE)
            members = [
                TeamMember(
                    participant_id=pid,
                    paid_at=purchase.occurred_at,
                    course_weeks=int(purchase.properties.get("course_weeks") or 0),
                    is_leader=pid == leader_id,
                    referee_discount=discounts.get(pid, 0),
                    purchase=purchase,
                    events=tuple(later.get(pid, ())),
                    participant=_participant_fact(people[pid]) if pid in people else None,
                    referral_id=referred[pid].pk if pid in referred else None,
                    rejected_at=_rejected_at(referred.get(pid)),
                )
                for pid, purchase in paid.items()
            ]
            if leader_id not in paid:
                leader = people.get(leader_id)
                members.append(
                    TeamMember(
                        participant_id=leader_id,
                        paid_at=None,
                        is_leader=True,
                        participant=_participant_fact(leader) if leader else None,
                    )
                )
            decision = team_evaluate(program.spec, code, members, now, cal)
            if decision.complete:
                created += len(
                    period_rewards_persist(
                        tenant=program.tenant, program=program, decisions=decision.rewards
                    )
                )
            if decision.reversed:
                team_rewards_reverse(
                    tenant=program.tenant, program=program, reversals=decision.reversed
                )
    return created


def _rejected_at(referral) -> datetime | None:
    if referral is None or referral.status != "rejected":
        return None
    return referral.status_changed_at


def _undo_types(spec: dict) -> list[str]:
    """The event types that can undo a team payment: refunds, and whatever the success stage
    reverses on (study-together: a class transfer, an `activity`)."""
    stage = next((s for s in spec.get("stages") or [] if s.get("success")), None) or {}
    return sorted({"refund", *(r["event"] for r in stage.get("reverse_on") or [])})


def _event_fact(event):
    from programs.engine import EventFact

    return EventFact(
        id=event.pk,
        type=event.type,
        occurred_at=event.occurred_at,
        amount_minor=event.amount_minor,
        currency=event.currency,
        order_id=event.order_id,
        properties=dict(event.payload.get("properties") or {}),
    )


def _referee_discounts(program, participant_ids: list[int], live) -> dict[int, int]:
    """The referee discount each member already has in this program (minor units): the
    team item only tops it up, never both (SCENARIOS C)."""
    rows = Reward.unscoped.filter(
        tenant_id=program.tenant_id,
        program=program,
        participant_id__in=participant_ids,
        referral__isnull=False,
        side="referee",
        kind=RewardKind.COUPON,
        status__in=live,
        amount_minor__isnull=False,
    ).values_list("participant_id", "amount_minor")
    out: dict[int, int] = {}
    for participant_id, amount in rows:
        out[participant_id] = out.get(participant_id, 0) + int(amount)
    return out


# --- Ambassadors -------------------------------------------------------------------------------

# A program without a stage that sets `retained` counts a referred customer retained once
# active (an `activity` or a `purchase`) from this long after sign-up on (SEMANTICS §7).
RETAINED_AFTER = timedelta(days=60)


def ambassadors_evaluate(*, now: datetime | None = None) -> int:
    """Ambassador status (the guide: ≥ 5 referrals with ≥ 50 % of them retained), per
    program's `ambassador` rule: counted are the referrer's referrals that cleared fraud
    review and whose success was kept past its hold; retained are those that reached the
    program's `retained` stage (or, without one, whose referee was active from day 60 on).
    The status is one lifetime item resting on the referrals it counted."""
    from programs.engine import AmbassadorReferral, ambassador_decision
    from tracking.models import Event, Participant, ReferralStage

    now = now or clock.now()
    created = 0
    for program in _active_programs(now):
        spec = program.spec
        rule = spec.get("ambassador")
        if not rule:
            continue
        key = (rule.get("reward") or {}).get("key") or "ambassador"
        stages = spec.get("stages") or []
        success = next((st["key"] for st in stages if st.get("success")), None)
        if success is None:
            continue
        retained_keys = [st["key"] for st in stages if st.get("status") == "retained"]
        reached = ReferralStage.unscoped.filter(
            tenant_id=program.tenant_id,
            referral__program=program,
            reversed_at__isnull=True,
            due_at__lte=now,
        ).exclude(referral__status__in=NOT_CLEARED)
        counted: dict[int, dict[int, datetime]] = {}
        created_at: dict[int, tuple[datetime, int]] = {}
        for referrer_id, referral_id, due_at, signed_up, referee_id in reached.filter(
            stage_key=success
        ).values_list(
            "referral__referrer_id",
            "referral_id",
            "due_at",
            "referral__created_at",
            "referral__referee_id",
        ):
            counted.setdefault(referrer_id, {})[referral_id] = due_at
            created_at[referral_id] = (signed_up, referee_id)
        done = set(
            Reward.unscoped.filter(
                tenant_id=program.tenant_id,
                program=program,
                scope="period:lifetime",
                reason=f"bonus:{key}",
            ).values_list("participant_id", flat=True)
        )
        wanted = {
            referrer_id: referrals
            for referrer_id, referrals in counted.items()
            if len(referrals) >= rule["min_referrals"] and referrer_id not in done
        }
        if not wanted:
            continue
        ids = [rid for referrals in wanted.values() for rid in referrals]
        if retained_keys:
            retained = dict(
                reached.filter(stage_key__in=retained_keys, referral_id__in=ids)
                .order_by("-due_at")
                .values_list("referral_id", "due_at")
            )
        else:
            retained = {}
            for referral_id in ids:
                signed_up, referee_id = created_at[referral_id]
                active = (
                    Event.unscoped.filter(
                        tenant_id=program.tenant_id,
                        participant_id=referee_id,
                        type__in=["activity", "purchase"],
                        occurred_at__gte=signed_up + RETAINED_AFTER,
                        occurred_at__lte=now,
                    )
                    .order_by("occurred_at")
                    .values_list("occurred_at", flat=True)
                    .first()
                )
                if active is not None:
                    retained[referral_id] = active
        people = Participant.unscoped.in_bulk(list(wanted))
        for referrer_id, referrals in sorted(wanted.items()):
            decision = ambassador_decision(
                spec,
                _participant_fact(people[referrer_id]),
                [
                    AmbassadorReferral(rid, success, due_at, retained.get(rid))
                    for rid, due_at in sorted(referrals.items())
                ],
                now,
            )
            if decision is not None:
                created += len(
                    period_rewards_persist(
                        tenant=program.tenant, program=program, decisions=[decision]
                    )
                )
    return created


# --- Lottery ----------------------------------------------------------------------------------


def _draw_period(draw: dict, now: datetime, cal) -> tuple[str, datetime]:
    """The period key of the draw that contains `now` and the moment it is drawn: weekly at
    the end of its weekday (0 = Monday; Friday by default), monthly at the month's end."""
    if draw["schedule"] == "weekly":
        key = calendar.period_key(now, "week", cal)
        start, _ = calendar.period_bounds(key, cal)
        return key, start + timedelta(days=draw.get("weekday", 4) + 1)
    key = calendar.period_key(now, "month", cal)
    return key, calendar.period_bounds(key, cal)[1]


def lottery_run(*, now: datetime | None = None) -> dict:
    from programs.engine import lottery_decisions, seed_commitment

    from . import rules

    now = now or clock.now()
    committed = drawn = 0
    for program in _active_programs(now):
        lottery = program.spec.get("lottery")
        if not lottery:
            continue
        cal = program.tenant.calendar
        for draw in lottery.get("draws") or []:
            key, _at = _draw_period(draw, now, cal)
            seed = rules.seed_new()
            # Commit the current period's seed (hash published) before it can be drawn.
            _, made = LotteryDraw.unscoped.get_or_create(
                tenant_id=program.tenant_id,
                program=program,
                draw_key=draw["key"],
                period_key=key,
                defaults={"seed_hash": seed_commitment(seed), "seed": seed, "committed_at": now},
            )
            committed += int(made)
        for row in LotteryDraw.unscoped.filter(program=program, drawn_at__isnull=True):
            draw = next((d for d in lottery.get("draws") or [] if d["key"] == row.draw_key), None)
            if draw is None:
                continue
            draw_at = _draw_time(draw, row.period_key, cal)
            if draw_at > now:
                continue
            drawn += _lottery_draw(program, draw, row, draw_at, lottery_decisions)
    return {"committed": committed, "drawn": drawn}


def _draw_time(draw: dict, period_key: str, cal) -> datetime:
    start, end = calendar.period_bounds(period_key, cal)
    if draw["schedule"] == "weekly":
        return start + timedelta(days=draw.get("weekday", 4) + 1)
    return end


@transaction.atomic
def _lottery_draw(
    program, draw: dict, row: LotteryDraw, draw_at: datetime, lottery_decisions
) -> int:
    row = LotteryDraw.unscoped.select_for_update().get(pk=row.pk)
    if row.drawn_at is not None:
        return 0
    cal = program.tenant.calendar
    valid = (program.spec.get("lottery") or {}).get("ticket_valid", "month")
    month = calendar.period_key(draw_at - timedelta(seconds=1), valid, cal)
    start, end = calendar.period_bounds(month, cal)
    rows = (
        Reward.unscoped.filter(
            tenant_id=program.tenant_id,
            program=program,
            kind=RewardKind.LOTTERY_TICKET,
            status__in=[RewardStatus.APPROVED, RewardStatus.FULFILLED],
            due_at__gte=start,
            due_at__lt=min(end, draw_at),
        )
        .exclude(referral__status__in=NOT_CLEARED)
        .values_list("pk", "participant_id", "referral_id", "rule_key")
    )
    tickets = {str(pk): owner for pk, owner, _referral, _key in rows}
    # A prize rests on its ticket's referral, at the stage that gave the ticket.
    stage_of = {
        item["key"]: stage["key"]
        for stage in program.spec.get("stages") or []
        for item in stage.get("rewards") or []
    }
    success = next((s["key"] for s in program.spec.get("stages") or [] if s.get("success")), "")
    ticket_basis = {
        str(pk): ((referral_id, stage_of.get(rule_key, success)),)
        for pk, _owner, referral_id, rule_key in rows
        if referral_id is not None
    }
    # A ticket wins at most once in its month, across the weekly and monthly draws.
    earlier = LotteryDraw.unscoped.filter(program=program, drawn_at__isnull=False).exclude(
        pk=row.pk
    )
    exclude = {w["ticket"] for d in earlier for w in d.winners if w.get("month") == month}
    decisions = [
        replace(d, basis=ticket_basis.get(d.reason.rsplit(":", 1)[1], ()))
        for d in lottery_decisions(
            program.spec, draw["key"], row.period_key, row.seed, tickets, draw_at, exclude=exclude
        )
    ]
    period_rewards_persist(tenant=program.tenant, program=program, decisions=decisions)
    row.tickets = sorted(tickets)
    row.winners = [
        {
            "ticket": d.reason.rsplit(":", 1)[1],
            "participant": d.beneficiary_id,
            "prize": d.rule_key,
            "month": month,
        }
        for d in decisions
    ]
    row.drawn_at = clock.now()
    row.save(update_fields=["tickets", "winners", "drawn_at"])
    return 1


# --- Points expiry ------------------------------------------------------------------------------


def points_expire(*, now: datetime | None = None) -> int:
    """Expire what is left of each points credit once its program's `expiry_months` passed.
    Spending (redemptions, clawbacks) consumes the oldest credits first."""
    from programs.engine import PointsLot, points_expiry

    now = now or clock.now()
    count = 0
    for program in _active_programs(now):
        spec = program.spec
        if not (spec.get("points") or {}).get("expiry_months"):
            continue
        cal = program.tenant.calendar
        accounts = (
            LedgerEntry.unscoped.filter(
                tenant_id=program.tenant_id, reward__program=program, points__gt=0
            )
            .values_list("account", flat=True)
            .distinct()
        )
        for account in accounts:
            with transaction.atomic():
                # The account's head row first: what is left of each lot is read and expired
                # while no redemption or clawback can spend it in between.
                LedgerAccount.unscoped.select_for_update().filter(
                    tenant_id=program.tenant_id, account=account
                ).first()
                entries = list(
                    LedgerEntry.unscoped.filter(tenant_id=program.tenant_id, account=account)
                    .select_related("reward")
                    .order_by("id")
                )
                lots = _points_lots(entries, program.pk, PointsLot)
                for expiry in points_expiry(spec, lots, now, cal):
                    if LedgerEntry.unscoped.filter(
                        reward_id=expiry.lot_id, entry_kind=LedgerEntryKind.EXPIRY
                    ).exists():
                        continue
                    reward = Reward.unscoped.get(pk=expiry.lot_id)
                    ledger.ledger_append(
                        tenant_id=program.tenant_id,
                        account=account,
                        entry_kind=LedgerEntryKind.EXPIRY,
                        participant_id=reward.participant_id,
                        reward_id=reward.pk,
                        reward_kind=RewardKind.POINTS,
                        points=-expiry.points,
                        memo="points expired",
                    )
                    count += 1
    return count


def _points_lots(entries, program_id: int, lot_type) -> list:
    """What is left of each of `program_id`'s points credits, replaying the account in
    order: a clawback or reversal takes from its own lot first, any other spending from the
    oldest lots; an expiry empties its lot; spending beyond the balance is owed and taken
    from the next credits (SEMANTICS §5: points may go negative)."""
    left: dict[int, int] = {}
    credits = {}
    owed = 0
    for entry in entries:
        if entry.entry_kind == LedgerEntryKind.CREDIT and entry.points > 0:
            take = min(owed, entry.points)
            owed -= take
            left[entry.reward_id] = entry.points - take
            credits[entry.reward_id] = entry
        elif entry.entry_kind == LedgerEntryKind.EXPIRY:
            left[entry.reward_id] = 0
        elif entry.points < 0:
            spend = -entry.points
            own = [entry.reward_id] if entry.reward_id in left else []
            for reward_id in own + [r for r in left if r != entry.reward_id]:
                take = min(spend, left[reward_id])
                left[reward_id] -= take
                spend -= take
            owed += spend
    return [
        lot_type(reward_id, remaining, credits[reward_id].created_at)
        for reward_id, remaining in left.items()
        if remaining > 0
        and credits[reward_id].reward
        and credits[reward_id].reward.program_id == program_id
    ]
