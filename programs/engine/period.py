"""Period-level decisions for rewards' sweeps: tiers/ladders, season closes, lottery draws,
teams, points expiry and ambassadors. Pure, like the rest."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from django.utils.translation import gettext as _

from referral_platform.core import calendar
from referral_platform.core.calendar import TenantCalendar

from .boosts import boost_in_force
from .conditions import matches
from .rewards import (
    DETAIL_KEYS,
    describe_value,
    eligibility,
    item_value,
    participant_context,
    stage_reversal,
)
from .types import EventFact, ParticipantFact, RewardDecision


@dataclass(frozen=True)
class CountedFact:
    """One reached stage of one referral of the referrer (tiers, seasons, lottery count these).
    `due_at` decides its period (SEMANTICS §2); `occurred_at` decides which boosts apply."""

    referral_id: int
    stage_key: str
    occurred_at: datetime
    due_at: datetime
    success: bool = False


@dataclass(frozen=True)
class Standing:
    participant_id: int
    count: int  # the season's metric
    successes: int  # for the qualification
    reached_at: datetime  # when the count reached its value: ties go to the earlier
    # The `(referral_id, stage_key)` the count rests on (see `RewardDecision.basis`).
    basis: tuple[tuple[int, str], ...] = ()


@dataclass(frozen=True)
class LotteryWin:
    ticket: str
    prize_key: str
    position: int


@dataclass(frozen=True)
class TeamMember:
    participant_id: int
    paid_at: datetime | None
    course_weeks: int = 0
    is_leader: bool = False
    referee_discount: int = 0  # the referee discount this member already had (minor units)
    # The team payment (its amount and order) and the member's later refunds and events the
    # success stage reverses on: they decide whether the payment still counts.
    purchase: EventFact | None = None
    events: tuple[EventFact, ...] = ()
    # Attributes and segments; the leader's reward checks referrer eligibility against them.
    participant: ParticipantFact | None = None
    # The member's own referral in the program, if referred: team items rest on it, and its
    # rejection after fraud review (`rejected_at`) undoes the payment like a refund would.
    referral_id: int | None = None
    rejected_at: datetime | None = None


@dataclass(frozen=True)
class TeamReversal:
    """A team item no longer due: its member's payment was undone inside its hold, or the team
    fell below `min_members` payments that count, at `reversed_at`."""

    beneficiary_id: int
    side: str
    scope: str
    reason: str
    reversed_at: datetime
    explanation: str = ""


@dataclass(frozen=True)
class TeamDecision:
    complete: bool
    members: tuple[int, ...]  # whose payments count
    overflow: tuple[int, ...]
    completed_at: datetime | None
    rewards: tuple[RewardDecision, ...] = ()
    explanation: str = ""
    reversed: tuple[TeamReversal, ...] = ()


@dataclass(frozen=True)
class PointsLot:
    id: int
    points: int  # what is left of the lot
    credited_at: datetime


@dataclass(frozen=True)
class Expiry:
    lot_id: int
    points: int
    expires_at: datetime


def _item_decision(item, spec, *, beneficiary_id, scope, reason, due_at, explanation, status="pending",
                   blocked_reason="", boost="", basis=()) -> RewardDecision:  # fmt: skip
    currency = spec["currency"]
    options = item.get("options") or ()
    values = item
    if options:
        values = next(o for o in options if o["key"] == item.get("default_option"))
    choice_deadline = None
    hold_reason = ""
    if options and status == "pending":
        choice_deadline = due_at + timedelta(days=item.get("choice_days", 0))
        hold_reason = "choice"
    return RewardDecision(
        beneficiary_id=beneficiary_id,
        side=item.get("side", "referrer"),
        scope=scope,
        reason=reason,
        rule_key=item["key"],
        kind=values["kind"],
        amount_minor=values.get("amount"),
        currency=currency if values.get("amount") is not None else "",
        points=values.get("points"),
        description=values.get("description", ""),
        status=status,
        due_at=due_at,
        hold_reason=hold_reason,
        blocked_reason=blocked_reason,
        boost=boost,
        options=tuple(
            {
                "key": o["key"],
                "kind": o["kind"],
                "amount_minor": o.get("amount"),
                "currency": currency if o.get("amount") is not None else "",
                "points": o.get("points"),
                "description": o.get("description", ""),
                "details": {k: o[k] for k in DETAIL_KEYS if k in o},
                "chosen": False,
            }
            for o in options
        ),  # fmt: skip
        details={k: values[k] for k in DETAIL_KEYS if k in values},
        choice_deadline=choice_deadline,
        explanation=f"{describe_value(values, currency)} · {explanation}",
        basis=tuple(basis),
    )


def _counts(fact: CountedFact, counts: str) -> bool:
    return fact.success if counts == "success" else fact.stage_key == counts[6:]


def _ladder_weight(
    spec, fact: CountedFact, context: Mapping, now, cal
) -> tuple[int, str, int | None]:
    """The factor of the ladder boost in force when the counted event occurred (no stacking:
    the largest wins), its key and its per-referrer limit."""
    best = (1, "", None)
    for boost in spec.get("boosts") or ():
        if boost.get("applies_to") != "ladder":
            continue
        if not boost_in_force(boost, fact.occurred_at, spec, cal):
            continue
        if not matches(boost.get("when"), context, now=now):
            continue
        if boost["factor"] > best[0]:
            best = (boost["factor"], boost["key"], boost.get("per_referrer_limit"))
    return best


def evaluate_tiers(
    spec: Mapping,
    referrer: ParticipantFact,
    success_log: Iterable[CountedFact],
    now: datetime,
    cal: TenantCalendar,
    *,
    boost_used: Mapping[str, int] | None = None,
) -> list[RewardDecision]:
    """Every tier reached by `now`, one decision per item per period (scope `period:<key>`).

    `success_log`: the referrer's reached, not reversed stages (all of them; the engine picks
    what each tier counts). Only entries whose hold has ended (`due_at <= now`) count, in the
    period of their `due_at`. Ladder boosts weight entries by their `occurred_at`; a tier
    reached only thanks to a boost records it in `boost`, and is not reached that way once the
    boost's per-referrer limit (`boost_used`, minor units) would be passed."""
    boost_used = dict(boost_used or {})
    context = {"referrer": participant_context(referrer)}
    failing = eligibility(spec, referrer, "referrer", now)
    log = sorted(
        (f for f in success_log if f.due_at <= now),
        key=lambda f: (f.due_at, f.referral_id, f.stage_key),
    )
    out: list[RewardDecision] = []
    for tier in spec.get("tiers") or ():
        counts = tier.get("counts", "success")
        per_period: dict[str, list[CountedFact]] = {}
        for fact in log:
            if _counts(fact, counts):
                per_period.setdefault(
                    calendar.period_key(fact.due_at, tier["period"], cal), []
                ).append(fact)
        for period, facts in sorted(per_period.items()):
            base = weighted = 0
            reached_at = None
            boost_key = ""
            counted: list[CountedFact] = []
            for fact in facts:
                factor, key, limit = _ladder_weight(spec, fact, context, now, cal)
                counted.append(fact)
                base += 1
                weighted += factor
                if base >= tier["threshold"]:
                    reached_at, boost_key = fact.due_at, ""
                    break
                if weighted >= tier["threshold"]:
                    value = sum(item_value(i, spec) for i in tier["rewards"])
                    if limit is not None and boost_used.get(key, 0) + value > limit:
                        weighted -= factor - 1  # the boost's limit is spent: count this one once
                        continue
                    boost_used[key] = boost_used.get(key, 0) + value
                    reached_at, boost_key = fact.due_at, key
                    break
            if reached_at is None:
                continue
            why = _("tier “%(t)s”: %(n)s reached in %(p)s") % {
                "t": tier.get("label") or tier["key"],
                "n": tier["threshold"],
                "p": period,
            }
            if boost_key:
                why += " · " + _("boosted by “%(b)s”") % {"b": boost_key}
            for item in tier["rewards"]:
                blocked = f"ineligible:{failing[0]}" if failing else ""
                out.append(_item_decision(
                    item, spec, beneficiary_id=referrer.id, scope=f"period:{period}",
                    reason=f"tier:{item['key']}", due_at=reached_at, explanation=why,
                    status="rejected" if failing else "pending", blocked_reason=blocked, boost=boost_key,
                basis=tuple((f.referral_id, f.stage_key) for f in counted),
                ))  # fmt: skip
    return out


def season_ranking(spec: Mapping, standings: Iterable[Standing]) -> list[Standing]:
    season = spec.get("season") or {}
    qualified = [
        s for s in standings if s.count > 0 and s.successes >= season.get("min_successes", 0)
    ]
    return sorted(qualified, key=lambda s: (-s.count, s.reached_at, s.participant_id))


def evaluate_season_close(
    spec: Mapping, standings: Iterable[Standing], period_key: str, *, closed_at: datetime
) -> list[RewardDecision]:
    """Prizes by rank for a closed season (`period_key` of the season's period). Standings
    below the qualification are not ranked; ties go to whoever reached the count first."""
    season = spec.get("season") or {}
    prizes = {p["rank"]: p["reward"] for p in season.get("prizes") or ()}
    out = []
    for rank, standing in enumerate(season_ranking(spec, standings), start=1):
        if rank not in prizes:
            continue
        why = _("season %(p)s: rank %(r)s with %(n)s") % {
            "p": period_key,
            "r": rank,
            "n": standing.count,
        }
        out.append(_item_decision(
            prizes[rank], spec, beneficiary_id=standing.participant_id, scope=f"period:{period_key}",
            reason=f"season:{rank}", due_at=closed_at, explanation=why, basis=standing.basis,
        ))  # fmt: skip
    return out


def seed_commitment(seed: str) -> str:
    """Published before the draw opens; the seed itself is revealed after."""
    return hashlib.sha256(seed.encode()).hexdigest()


def draw_lottery(
    seed: str, tickets: Iterable[str], prizes: Sequence[Mapping], *, exclude: Iterable[str] = ()
) -> list[LotteryWin]:
    """Winners, deterministically from `seed`: tickets ordered by SHA-256(seed:ticket), prizes
    handed out in the listed order (`count` each). A ticket wins at most once: pass the tickets
    that already won this month as `exclude`."""
    excluded = set(exclude)
    pool = sorted(
        {t for t in tickets if t not in excluded},
        key=lambda t: (hashlib.sha256(f"{seed}:{t}".encode()).hexdigest(), t),
    )
    slots = [prize["key"] for prize in prizes for __ in range(prize.get("count", 1))]
    return [
        LotteryWin(ticket, prize, position)
        for position, (ticket, prize) in enumerate(zip(pool, slots, strict=False))
    ]


def lottery_decisions(
    spec: Mapping,
    draw_key: str,
    period_key: str,
    seed: str,
    tickets: Mapping[str, int],
    drawn_at: datetime,
    *,
    exclude: Iterable[str] = (),
) -> list[RewardDecision]:
    """The prizes of one draw as reward decisions, `reason` `lottery:<draw>:<ticket>`.
    `tickets`: ticket id → owner participant id; `period_key` names the draw (e.g. `2026-W10`)."""
    draw = next(d for d in (spec.get("lottery") or {}).get("draws", ()) if d["key"] == draw_key)
    prizes = {p["key"]: p for p in draw["prizes"]}
    out = []
    for win in draw_lottery(seed, tickets, draw["prizes"], exclude=exclude):
        prize = {**prizes[win.prize_key], "side": "referrer"}
        prize.pop("count", None)
        why = _("draw %(d)s %(p)s, ticket %(t)s") % {
            "d": draw_key,
            "p": period_key,
            "t": win.ticket,
        }
        out.append(_item_decision(
            prize, spec, beneficiary_id=tickets[win.ticket], scope=f"period:{period_key}",
            reason=f"lottery:{draw_key}-{period_key}:{win.ticket}", due_at=drawn_at, explanation=why,
        ))  # fmt: skip
    return out


def _success_hold(spec: Mapping) -> tuple[dict | None, dict]:
    stage = next((s for s in spec.get("stages") or () if s.get("success")), None)
    return stage, (stage or {}).get("hold") or {}


def _payment_undone(
    stage: Mapping | None, hold: Mapping, member: TeamMember, now: datetime, cal
) -> tuple[datetime | None, str]:
    """A member's payment no longer counts when the success stage would be reversed by what
    followed it: a refund or a `reverse_on` event (a class transfer) inside its hold."""
    if member.rejected_at is not None and member.rejected_at <= now:
        return member.rejected_at, _("the referral was rejected after fraud review")
    if stage is None:
        return None, ""
    purchase = member.purchase or EventFact(0, "purchase", member.paid_at)
    due = calendar.due_at(
        purchase.occurred_at, cal, days=hold.get("days", 0), business_days=hold.get("business_days", 0)
    )  # fmt: skip
    events = sorted(
        (e for e in member.events if e.occurred_at <= now), key=lambda e: (e.occurred_at, e.id)
    )
    return stage_reversal(
        stage, purchase, purchase.occurred_at, due, events, purchase.occurred_at, {}
    )


def _team_items(spec, team, team_code, in_team, members, hold, now, cal) -> list[RewardDecision]:
    """What a complete team of `in_team` (in payment order) earns: each member's top-up, due
    when the later of their payment and the team's completion has been kept for the success
    hold; the leader's reward, due when the completing payment has (blocked when the leader
    is not an eligible referrer, SEMANTICS §4)."""
    completed_at = in_team[team["min_members"] - 1].paid_at
    scope = f"team:{team_code}"
    success_key = next((s["key"] for s in spec.get("stages") or () if s.get("success")), "")

    def rests_on(people) -> tuple[tuple[int, str], ...]:
        return tuple((m.referral_id, success_key) for m in people if m.referral_id is not None)

    team_basis = rests_on(in_team)

    def kept(at: datetime) -> datetime:
        return calendar.due_at(
            at, cal, days=hold.get("days", 0), business_days=hold.get("business_days", 0)
        )

    def leader_item(leader: TeamMember) -> RewardDecision:
        item = dict(team["leader_reward"], side="referrer")
        why = _("team leader of %(c)s") % {"c": team_code}
        failing = (
            eligibility(spec, leader.participant, "referrer", now) if leader.participant else []
        )
        if failing:
            why += " · " + _("%(side)s not eligible (%(rule)s)") % {"side": "referrer", "rule": failing[0]}  # fmt: skip
            return _item_decision(
                item, spec, beneficiary_id=leader.participant_id, scope=scope,
                reason=f"bonus:{item['key']}", due_at=kept(completed_at), explanation=why,
                status="rejected", blocked_reason=f"ineligible:{failing[0]}", basis=team_basis,
            )  # fmt: skip
        return _item_decision(
            item, spec, beneficiary_id=leader.participant_id, scope=scope,
            reason=f"bonus:{item['key']}", due_at=kept(completed_at), explanation=why,
            basis=team_basis,
        )  # fmt: skip

    rewards = []
    for member in in_team:
        long = team.get("member_reward_long") and member.course_weeks >= team.get(
            "long_course_weeks", 10**6
        )
        item = dict(team["member_reward_long"] if long else team["member_reward"], side="referee")
        top_up = max(item.get("amount", 0) - member.referee_discount, 0)
        if top_up <= 0:
            continue
        why = _("team %(c)s complete; the larger discount applies, never both") % {"c": team_code}
        item["amount"] = top_up
        rewards.append(_item_decision(
            item, spec, beneficiary_id=member.participant_id, scope=scope, reason=f"bonus:{item['key']}",
            due_at=kept(max(member.paid_at, completed_at)), explanation=why, basis=rests_on([member]),
        ))  # fmt: skip
        if member.is_leader and team.get("leader_reward"):
            rewards.append(leader_item(member))
    leaders_in = {m.participant_id for m in in_team if m.is_leader}
    for member in members:
        # A leader who did not pay (or whose payment does not count) still leads.
        if (
            member.is_leader
            and member.participant_id not in leaders_in
            and team.get("leader_reward")
        ):
            leaders_in.add(member.participant_id)
            rewards.append(leader_item(member))
    return rewards


def team_evaluate(
    spec: Mapping,
    team_code: str,
    members: Iterable[TeamMember],
    now: datetime,
    cal: TenantCalendar | None = None,
) -> TeamDecision:
    """A team is complete when `min_members`..`max_members` members pay within `within_days`
    of the first payment; later payers beyond `max_members` move to the next batch. Each member
    gets the larger of the team and the referee discount, never both: the team item tops the
    referee discount up. Scope `team:<code>`.

    A payment undone inside its success hold (a refund, a class transfer) no longer counts:
    that member's item is reported `reversed`, and so is every item of the team once fewer than
    `min_members` payments still count, from the moment that happened. Who is in the batch is
    decided by the payments alone: an undone payment never lets the overflow in."""
    team = spec.get("team")
    if not team:
        return TeamDecision(False, (), (), None, explanation=_("this program has no team rule"))
    members = list(members)
    paid = sorted(
        (m for m in members if m.paid_at and m.paid_at <= now),
        key=lambda m: (m.paid_at, m.participant_id),
    )
    if not paid:
        return TeamDecision(False, (), (), None, explanation=_("nobody has paid yet"))
    first = paid[0].paid_at
    window = [m for m in paid if m.paid_at <= first + timedelta(days=team["within_days"])]
    in_team, overflow = window[: team["max_members"]], window[team["max_members"] :]
    minimum = team["min_members"]
    if len(in_team) < minimum:
        return TeamDecision(False, tuple(m.participant_id for m in in_team), (), None,
                            explanation=_("%(n)s of %(min)s members paid") % {"n": len(in_team), "min": minimum})  # fmt: skip
    stage, hold = _success_hold(spec)
    undone: dict[int, tuple[datetime, str]] = {}
    for member in in_team:
        at, why = _payment_undone(stage, hold, member, now, cal)
        if at is not None:
            undone[member.participant_id] = (at, why)
    counting = [m for m in in_team if m.participant_id not in undone]
    broken_at = None
    broken_why = _("fewer than %(min)s members' payments still count") % {"min": minimum}
    left = len(in_team)
    for at, _why in sorted(undone.values(), key=lambda u: u[0]):
        left -= 1
        if left < minimum:
            broken_at = at
            break
    overflow_ids = tuple(m.participant_id for m in overflow)
    due = (
        _team_items(spec, team, team_code, counting, members, hold, now, cal)
        if broken_at is None
        else []
    )
    due_keys = {(d.beneficiary_id, d.reason) for d in due}
    reversed_items = []
    for item in _team_items(spec, team, team_code, in_team, members, hold, now, cal):
        if (item.beneficiary_id, item.reason) in due_keys:
            continue
        causes = []
        if item.side == "referee" and item.beneficiary_id in undone:
            causes.append(undone[item.beneficiary_id])
        if broken_at is not None:
            causes.append((broken_at, broken_why))
        at, why = min(causes, key=lambda u: u[0])
        reversed_items.append(TeamReversal(
            item.beneficiary_id, item.side, item.scope, item.reason, at,
            _("team %(c)s: %(why)s") % {"c": team_code, "why": why},
        ))  # fmt: skip
    if broken_at is not None:
        return TeamDecision(
            False, tuple(m.participant_id for m in counting), overflow_ids, None,
            reversed=tuple(reversed_items),
            explanation=_("team %(c)s: %(n)s of %(min)s members' payments still count") % {"c": team_code, "n": len(counting), "min": minimum},
        )  # fmt: skip
    return TeamDecision(
        True,
        tuple(m.participant_id for m in counting),
        overflow_ids,
        counting[minimum - 1].paid_at,
        tuple(due),
        _("team %(c)s complete with %(n)s members") % {"c": team_code, "n": len(counting)},
        reversed=tuple(reversed_items),
    )


def points_expires_at(spec: Mapping, credited_at: datetime, cal: TenantCalendar) -> datetime | None:
    months = (spec.get("points") or {}).get("expiry_months")
    if not months:
        return None
    moment = calendar.local(credited_at, cal)
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    day = min(
        moment.day,
        [
            31,
            29 if year % 4 == 0 and (year % 100 or year % 400 == 0) else 28,
            31,
            30,
            31,
            30,
            31,
            31,
            30,
            31,
            30,
            31,
        ][month - 1],
    )
    return moment.replace(year=year, month=month, day=day).astimezone(credited_at.tzinfo)


def points_expiry(
    spec: Mapping, lots: Iterable[PointsLot], now: datetime, cal: TenantCalendar
) -> list[Expiry]:
    """Lots whose `expiry_months` (tenant-local calendar months) have passed by `now`."""
    out = []
    for lot in lots:
        expires = points_expires_at(spec, lot.credited_at, cal)
        if expires is not None and lot.points > 0 and expires <= now:
            out.append(Expiry(lot.id, lot.points, expires))
    return sorted(out, key=lambda e: (e.expires_at, e.lot_id))


def ambassador_evaluate(spec: Mapping, referrals: int, retained: int) -> tuple[bool, str]:
    rule = spec.get("ambassador")
    if not rule:
        return False, _("this program has no ambassador status")
    ok = (
        referrals >= rule["min_referrals"]
        and retained * 100 >= rule["min_retained_percent"] * referrals
    )
    return ok, _("%(r)s referrals, %(k)s retained (needs %(n)s with %(p)s%% retained)") % {
        "r": referrals,
        "k": retained,
        "n": rule["min_referrals"],
        "p": rule["min_retained_percent"],
    }


@dataclass(frozen=True)
class AmbassadorReferral:
    """One referral of the referrer, as ambassador status counts it: cleared fraud review, its
    success kept past its hold at `counted_at`, and retained at `retained_at` (if it is)."""

    referral_id: int
    stage_key: str
    counted_at: datetime
    retained_at: datetime | None = None


AMBASSADOR_ITEM = {"key": "ambassador", "kind": "perk", "description": "Ambassador status"}


def ambassador_decision(
    spec: Mapping, referrer: ParticipantFact, referrals: Iterable[AmbassadorReferral], now: datetime
) -> RewardDecision | None:
    """Ambassador status (`spec.ambassador`; the guide: ≥ 5 referrals with ≥ 50 % of them
    retained) as one lifetime item of the referrer, scope `period:lifetime`, reason
    `bonus:<item key>`, due the moment the rule was first met by what had cleared by then.
    None while it is not met. It rests on every referral counted then."""
    rule = spec.get("ambassador")
    if not rule:
        return None
    item = {**(rule.get("reward") or AMBASSADOR_ITEM), "side": "referrer"}
    moments = sorted(
        {r.counted_at for r in referrals if r.counted_at <= now}
        | {r.retained_at for r in referrals if r.retained_at and r.retained_at <= now}
    )
    for moment in moments:
        counted = [r for r in referrals if r.counted_at <= moment]
        retained = sum(1 for r in counted if r.retained_at and r.retained_at <= moment)
        ok, why = ambassador_evaluate(spec, len(counted), retained)
        if not ok:
            continue
        failing = eligibility(spec, referrer, "referrer", now)
        decision = _item_decision(
            item, spec, beneficiary_id=referrer.id, scope="period:lifetime",
            reason=f"bonus:{item['key']}", due_at=moment,
            explanation=_("ambassador: %(why)s") % {"why": why},
            status="rejected" if failing else "pending",
            blocked_reason=f"ineligible:{failing[0]}" if failing else "",
            basis=tuple((r.referral_id, r.stage_key) for r in counted),
        )  # fmt: skip
        return replace(decision, details={**decision.details, "status": "ambassador"})
    return None
