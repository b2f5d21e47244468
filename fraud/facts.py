"""Gathering an assessment's facts from the database. The reads live here so the signals in
`fraud.signals` stay pure; every query is scoped with `.for_tenant`."""

from __future__ import annotations

import functools
import operator
from collections import Counter, defaultdict
from datetime import timedelta

from django.db.models import Count, Q

from referral_platform.core import memo
from referral_platform.core.compiled import compiled

from . import identity
from .models import BlockedIdentifier, CodeFlag, CodeFlagStatus, Fingerprint
from .signals import (
    DUPLICATE_KINDS,
    REFUND_MIN_COUNT,
    REFUND_MIN_PURCHASES,
    SHARED_IP_MIN_OTHERS,
    AssessmentFacts,
    Identity,
)

VELOCITY_WINDOW = timedelta(days=7)
BURST_WINDOW = timedelta(hours=1)
BURST_HISTORY = timedelta(days=30)
WEEK = timedelta(days=7)
WEEK_HISTORY = timedelta(days=90)
# Identifiers strong enough to tie a new referral to a rejected one; IPs are shared by
# whole carriers (CGNAT), so they are left to the velocity signal.
RING_KINDS = ("email", "phone", "device", "payment", "address")
VELOCITY_KINDS = ("ip", "device", "address")
MAX_EVENTS = 200


@compiled(fixed=("limit",))
def _latest_events(*, tenant_id: int, participant_ids: list[int], limit: int):
    """The participants' latest events, newest first, `limit` of them."""
    from tracking.models import Event

    return (
        Event.objects.for_tenant(tenant_id)
        .filter(participant_id__in=participant_ids)
        .order_by("-occurred_at")
        .values_list("participant_id", "pk", "type", "occurred_at", "payload")[:limit]
    )


def _recent_events(tenant, participants) -> dict[int, list[tuple]]:
    """Each participant's latest `MAX_EVENTS` events, newest first, as `(pk, type,
    occurred_at, payload)`, in one read; a participant with more events than that is read on
    its own, so each keeps its latest."""
    from tracking.models import Event

    ids = list(dict.fromkeys(p.pk for p in participants))
    fields = ("pk", "type", "occurred_at", "payload")
    found: dict[int, list] = {pk: [] for pk in ids}
    for participant_id, *row in _latest_events(
        tenant_id=tenant.pk, participant_ids=ids, limit=MAX_EVENTS * len(ids) + 1
    ):
        found[participant_id].append(tuple(row))
    # Past the limit, someone has more than MAX_EVENTS: read each alone.
    if any(len(latest) > MAX_EVENTS for latest in found.values()):
        events = Event.objects.for_tenant(tenant).order_by("-occurred_at")
        found = {
            pk: list(events.filter(participant_id=pk).values_list(*fields)[:MAX_EVENTS])
            for pk in ids
        }
    return found


def _all_of(recent: list[tuple]) -> bool:
    """Whether `recent` (`_recent_events`) holds every event of its participant."""
    return len(recent) < MAX_EVENTS


def _contexts(recent: list[tuple]) -> list[dict]:
    return [p.get("context") or {} for *_row, p in recent if isinstance(p, dict)]


def participant_identity(participant, contexts: list[dict], *, click=None) -> Identity:
    """Every identifier seen for `participant`: its contact details, its latest events'
    `contexts` and, for a referee, the click that brought it."""
    tokens: dict[str, set[str]] = defaultdict(set)
    ip_seen: Counter[str] = Counter()
    email = participant.email or ""
    tokens["email"].add(participant.email_hash or identity.email_token(email))
    tokens["phone"].add(
        participant.phone_hash
        or (identity.phone_token(participant.phone) if participant.phone else "")
    )
    ua_classes: list[str] = []
    for context in contexts:
        if context.get("ip"):
            ip, net = identity.ip_tokens(str(context["ip"]))
            tokens["ip"].add(ip)
            tokens["ip24"].add(net)
            ip_seen[ip] += 1
        tokens["device"].add(identity.device_token(str(context.get("device_id") or "")))
        tokens["payment"].add(identity.payment_token(str(context.get("payment_fingerprint") or "")))
        if context.get("address"):
            tokens["address"].add(identity.address_token(context["address"]))
        if context.get("user_agent"):
            ua_classes.append(identity.user_agent_class(str(context["user_agent"])))
    if click is not None:
        tokens["ip"].add(click.ip_hash)
        tokens["ip24"].add(click.ip24_hash)
        ip_seen[click.ip_hash] += 1
        if click.is_bot or click.ua_class in ("bot", "headless"):
            ua_classes.append("headless" if click.ua_class == "headless" else "preview")
        elif click.ua_class:
            ua_classes.append("browser")
    domain = participant.email_domain or identity.email_domain(email)
    attributes = participant.attributes or {}
    return Identity(
        **{
            kind: frozenset(t for t in tokens[kind] if t)
            for kind in ("email", "phone", "device", "payment", "address", "ip", "ip24")
        },
        email_domain=(domain or "").lower(),
        company_id=str(attributes.get("company_id") or ""),
        ua_classes=tuple(c for c in ua_classes if c),
        ip_seen={token: n for token, n in ip_seen.items() if token},
    )


def fingerprints_record(tenant, identities: list[tuple], *, seen_at) -> None:
    """Remember each `(participant, Identity)`'s identifiers for later velocity, ring and
    sharing queries (one insert for all)."""
    rows = [
        Fingerprint(
            tenant=tenant, kind=kind, token=token, participant=participant, first_seen_at=seen_at
        )
        for participant, ident in identities
        for kind, values in ident.tokens().items()
        for token in values
    ]
    Fingerprint.unscoped.bulk_create(rows, ignore_conflicts=True)


def _referral_click(referral):

    if not referral.click_id:
        return None
    found = _click_rows(tenant_id=referral.tenant_id, click_id=referral.click_id)
    return found[0] if found else None


@compiled
def _click_rows(*, tenant_id: int, click_id: str):
    from tracking.models import Click

    return Click.objects.for_tenant(tenant_id).filter(pk=click_id).order_by("pk")[:1]


def _velocity(
    referral, referee_ident: Identity, sharing: _Sharing, times: _ReferrerTimes, public_ips
) -> dict[str, int]:
    # Later referrals count too when a later stage re-assesses this one.
    others = times.referees(
        gte=referral.created_at - VELOCITY_WINDOW,
        lte=referral.created_at + VELOCITY_WINDOW,
        besides=referral.pk,
    )
    if sharing.rows is not None and not isinstance(others, set):
        others = set(others)  # read once, not once per kind
    counts: dict[str, int] = {}
    for kind in VELOCITY_KINDS:
        mine = getattr(referee_ident, kind)
        if kind == "ip":
            # Colleagues behind an office's NAT or phones behind a carrier's share these.
            mine = mine - public_ips
        holders = sharing.holders((kind,), mine, among=others)
        counts[kind] = len({participant_id for _kind, _token, participant_id in holders})
    return counts


BURST_ROWS = 2000
CIRCLE_ROWS = 5000
_OPS = {"gt": operator.gt, "gte": operator.ge, "lt": operator.lt, "lte": operator.le}


@compiled(fixed=("limit",))
def _referrer_referrals(*, tenant_id: int, referrer_id: int, limit: int):
    from tracking.models import Referral

    return (
        Referral.objects.for_tenant(tenant_id)
        .filter(referrer_id=referrer_id)
        .values_list("created_at", "referee_id", "pk")[:limit]
    )


class _ReferrerTimes:
    """The referrer's referrals as the burst, velocity and refund signals read them: whom
    each referred (`all_referees`: all of them, or `CIRCLE_ROWS` + 1 when there are more) and,
    for those from `WEEK` + `WEEK_HISTORY` before this one to `WEEK` after, when each was
    created, in one read. A referrer with more referrals than that read keeps has their
    window read alone; one with more in the window than the signals keep (`BURST_ROWS`) is
    read window by window, so each window keeps what it kept when it was read alone."""

    def __init__(self, referral):

        self.tenant_id, self.referrer_id = referral.tenant_id, referral.referrer_id
        every = _referrer_referrals(
            tenant_id=referral.tenant_id, referrer_id=referral.referrer_id, limit=CIRCLE_ROWS + 1
        )
        self.all_referees = [referee for _at, referee, _pk in every]
        at = referral.created_at
        start, end = at - WEEK - WEEK_HISTORY, at + WEEK
        if len(every) <= CIRCLE_ROWS:
            rows = [row for row in every if start <= row[0] <= end]
        else:
            rows = list(
                self.mine.filter(created_at__gte=start, created_at__lte=end).values_list(
                    "created_at", "referee_id", "pk"
                )[: BURST_ROWS + 1]
            )
        self.rows = rows if len(rows) <= BURST_ROWS else None

    @functools.cached_property
    def mine(self):
        from tracking.models import Referral

        return Referral.objects.for_tenant(self.tenant_id).filter(referrer_id=self.referrer_id)

    def _within(self, at, bounds) -> bool:
        return all(_OPS[op](at, v) for op, v in bounds.items())

    def _window(self, bounds):
        return self.mine.filter(**{f"created_at__{op}": v for op, v in bounds.items()})

    def between(self, *, limit: int | None = BURST_ROWS, **bounds) -> list:
        """The times within `bounds` (`gt`, `gte`, `lt`, `lte`), at most `limit` of them."""
        if self.rows is not None:
            return [at for at, _referee, _pk in self.rows if self._within(at, bounds)]
        return list(self._window(bounds).values_list("created_at", flat=True)[:limit])

    def referees(self, *, besides: int, **bounds):
        """The referees of the referrals within `bounds` but `besides`: a set, or (read
        window by window) a query of them."""
        if self.rows is not None:
            return {
                referee
                for at, referee, pk in self.rows
                if pk != besides and self._within(at, bounds)
            }
        return self._window(bounds).exclude(pk=besides).values_list("referee_id", flat=True)


SHARED_ROWS = 2000
# What the linking signals look for: all an identity's kinds but its /24 networks.
SHARED_KINDS = ("email", "phone", "device", "payment", "address", "ip")


@compiled(fixed=("limit",))
def _token_holders(*, tenant_id: int, tokens: list[str], limit: int):
    return (
        Fingerprint.objects.for_tenant(tenant_id)
        .filter(kind__in=SHARED_KINDS, token__in=tokens)
        .values_list("kind", "token", "participant_id")[:limit]
    )


class _Sharing:
    """Who holds the parties' identifiers, as the linking signals (velocity, shared
    addresses, duplicates, rings) read it: every fingerprint of the referee's and the
    referrer's tokens, in one read. Past `SHARED_ROWS` (an address a carrier shares among
    thousands), each signal reads its own."""

    def __init__(self, tenant_id, identities: list[Identity]):
        self.tenant_id = tenant_id
        tokens = {t for ident in identities for kind in SHARED_KINDS for t in getattr(ident, kind)}
        rows = []
        if tokens:
            rows = _token_holders(tenant_id=tenant_id, tokens=sorted(tokens), limit=SHARED_ROWS + 1)
        self.rows = rows if len(rows) <= SHARED_ROWS else None

    def holders(self, kinds, tokens, *, among=None, besides=()) -> list[tuple[str, str, int]]:
        """`(kind, token, participant)` of the fingerprints of `kinds` holding one of `tokens`,
        of the participants `among` (when given: a set, or a query when they are read) and not
        `besides`."""
        if not tokens:
            return []
        if self.rows is not None:
            return [
                (kind, token, pid)
                for kind, token, pid in self.rows
                if kind in kinds
                and token in tokens
                and (among is None or pid in among)
                and pid not in besides
            ]
        query = Fingerprint.objects.for_tenant(self.tenant_id).filter(
            kind__in=kinds, token__in=tokens
        )
        if among is not None:
            query = query.filter(participant_id__in=among)
        query = query.exclude(participant_id__in=besides)
        return list(query.values_list("kind", "token", "participant_id").distinct())


def _burst(referral, times: _ReferrerTimes) -> tuple[int, float]:
    at = referral.created_at
    last_hour = len(times.between(gt=at - BURST_WINDOW, lte=at, limit=None))
    history = times.between(gte=at - BURST_HISTORY, lte=at - BURST_WINDOW)
    hours = {when.replace(minute=0, second=0, microsecond=0) for when in history}
    return max(last_hour, 1), (len(history) / len(hours)) if hours else 0.0


def _burst_days(referral, times: _ReferrerTimes) -> tuple[int, float, float]:
    """The most sign-ups of this referrer in a 7-day window holding this one, their usual
    count per active week in the 90 days before, and the shortest gap between two of the
    window's sign-ups in hours. Windows after it count too, so the first referrals of a slow
    burst look the same when it is re-assessed later."""
    at = referral.created_at
    around = sorted(times.between(gt=at - WEEK, lt=at + WEEK))
    starts = [t for t in around if t <= at] or [at]
    windows = [[t for t in around if start <= t < start + WEEK] for start in starts]
    best = max(windows, key=len)
    gaps = [(b - a).total_seconds() / 3600 for a, b in zip(best, best[1:], strict=False)]
    first = min(starts)
    history = times.between(gte=first - WEEK_HISTORY, lt=first)
    weeks = {when.isocalendar()[:2] for when in history}
    usual = (len(history) / len(weeks)) if weeks else 0.0
    return max(len(best), 1), usual, min(gaps, default=0.0)


# Up to this many, a referrer's referees are named in a query rather than read again in it:
# its plan then needs no statistics about the referrals.
NAMED_REFEREES = 200


def _circle(referral, referees: list[int]) -> set[int]:
    """The referrer and every referee of theirs (at most `CIRCLE_ROWS`): the people a shared
    identifier may link."""
    return {referral.referrer_id, referral.referee_id} | set(referees[:CIRCLE_ROWS])


def _ip_others(referee: Identity, sharing: _Sharing, circle: set) -> dict[str, int]:
    """For each of the referee's addresses, the participants outside the referrer's circle
    seen on it: many means a carrier's CGNAT, an office's NAT or a café."""
    counts: dict[str, int] = defaultdict(int)
    for _kind, token, _pid in set(sharing.holders(("ip",), referee.ip, besides=circle)):
        counts[token] += 1
    return dict(counts)


def _public_ips(ip_others: dict[str, int]) -> set[str]:
    return {token for token, n in ip_others.items() if n >= SHARED_IP_MIN_OTHERS}


def _duplicates(referral, referee: Identity, sharing: _Sharing, circle: set) -> dict[str, int]:
    """Other referees of this referrer holding this referee's one-per-person identifiers."""
    others = circle - {referral.referrer_id, referral.referee_id}
    counts = {kind: 0 for kind in DUPLICATE_KINDS}
    tokens = {t for kind in DUPLICATE_KINDS for t in getattr(referee, kind)}
    if not tokens or not others:
        return counts
    seen: dict[str, set] = defaultdict(set)
    for kind, _token, participant_id in sharing.holders(DUPLICATE_KINDS, tokens, among=others):
        seen[kind].add(participant_id)
    counts.update({kind: len(ids) for kind, ids in seen.items()})
    return counts


def _first_event_time(tenant_id, participant_id, type_, recent: list[tuple]):
    """When the participant's first `type_` event happened: from its `recent` events when
    they are all it has, else read."""
    from tracking.models import Event

    if _all_of(recent):
        return min((at for _pk, kind, at, _payload in recent if kind == type_), default=None)
    return (
        Event.objects.for_tenant(tenant_id)
        .filter(participant_id=participant_id, type=type_)
        .order_by("occurred_at")
        .values_list("occurred_at", flat=True)
        .first()
    )


def _refund_counts(tenant_id, referee_ids) -> tuple[int, int]:
    if isinstance(referee_ids, set):
        referee_ids = sorted(referee_ids)
    found = _refund_count_rows(tenant_id=tenant_id, referee_ids=referee_ids)
    return tuple(found[0]) if found else (0, 0)


@compiled
def _refund_count_rows(*, tenant_id: int, referee_ids):
    """Of `referee_ids`, how many bought and how many refunded: one row, or none."""
    from tracking.models import Event

    return (
        Event.objects.for_tenant(tenant_id)
        .filter(participant_id__in=referee_ids, type__in=("purchase", "refund"))
        .order_by()
        .values("tenant_id")
        .annotate(
            purchases=Count("participant_id", distinct=True, filter=Q(type="purchase")),
            refunds=Count("participant_id", distinct=True, filter=Q(type="refund")),
        )
        .values_list("purchases", "refunds")
    )


def _refund_timing(referral, stage_key: str, recent: list[tuple]) -> tuple[float | None, bool]:
    """When the refund came relative to the referral's holds: (days since the latest hold
    that ended before it, or None; whether it fell inside a reached stage's hold). The refund
    is the one a refund assessment names (`refund:<event id>`), else the referee's latest:
    found in the referee's `recent` events when they are all it has, else read."""
    from tracking.models import Event, ReferralStage

    kind, _sep, event_pk = stage_key.partition(":")
    named = int(event_pk) if kind == "refund" and event_pk.isdigit() else None
    if _all_of(recent):
        refund_at = max(
            (at for pk, type_, at, _payload in recent if type_ == "refund" and named in (None, pk)),
            default=None,
        )
    else:
        refunds = Event.objects.for_tenant(referral.tenant_id).filter(
            participant_id=referral.referee_id, type="refund"
        )
        if named is not None:
            refunds = refunds.filter(pk=named)
        refund_at = refunds.order_by("-occurred_at").values_list("occurred_at", flat=True).first()
    if refund_at is None:
        return None, False
    holds = list(
        ReferralStage.objects.for_tenant(referral.tenant_id)
        .filter(referral=referral, due_at__isnull=False)
        .values_list("occurred_at", "due_at")
    )
    # Inside a hold the rules reverse what the refund undid (SEMANTICS §5): the reward was
    # never paid out, so this is not a refund after the reward.
    if any(occurred_at <= refund_at < due_at for occurred_at, due_at in holds):
        return None, True
    ended = [due_at for _occurred_at, due_at in holds if due_at <= refund_at]
    if not ended:
        return None, False
    return (refund_at - max(ended)).total_seconds() / 86400, False


def _blocklisted(tenant_id, identities: list[Identity]) -> tuple[str, ...]:
    blocked = BlockedIdentifier.objects.for_tenant
    if not memo.once(("blocklist_any", tenant_id), lambda: blocked(tenant_id).exists()):
        return ()
    query = Q()
    for ident in identities:
        for kind, values in ident.tokens().items():
            if values:
                query |= Q(kind=kind, value_hash__in=values)
        if ident.email_domain:
            query |= Q(kind="domain", value_hash=identity.domain_token(ident.email_domain))
    if not query:
        return ()
    kinds = blocked(tenant_id).filter(query).values_list("kind", flat=True)
    return tuple(sorted(set(kinds)))


def _leaked_codes(tenant_id) -> set[str]:
    """The codes flagged as leaked and not yet cleared (a handful per tenant)."""
    return memo.once(
        ("leaked_codes", tenant_id),
        lambda: set(
            CodeFlag.objects.for_tenant(tenant_id)
            .filter(status__in=[CodeFlagStatus.OPEN, CodeFlagStatus.ROTATED])
            .values_list("code", flat=True)
        ),
    )


@compiled
def _rejected_among(*, tenant_id: int, suspects: list[int], besides: int):
    """The rejected referrals with one of `suspects` on either side, but `besides`."""
    from tracking.models import Referral

    return (
        Referral.objects.for_tenant(tenant_id)
        .filter(status="rejected")
        .filter(Q(referrer_id__in=suspects) | Q(referee_id__in=suspects))
        .exclude(pk=besides)
        .values_list("referrer_id", "referee_id")
    )


def _ring(referral, identities: list[Identity], sharing: _Sharing) -> tuple[str, ...]:

    tokens = {t for ident in identities for kind in RING_KINDS for t in getattr(ident, kind)}
    if not tokens:
        return ()
    parties = {referral.referrer_id, referral.referee_id}
    by_participant: dict[int, set[str]] = defaultdict(set)
    for kind, _token, participant_id in sharing.holders(RING_KINDS, tokens, besides=parties):
        by_participant[participant_id].add(kind)
    suspects = set(by_participant) | {referral.referee_id}
    rejected = _rejected_among(
        tenant_id=referral.tenant_id, suspects=sorted(suspects), besides=referral.pk
    )
    kinds: set[str] = set()
    for referrer_id, referee_id in rejected:
        for pid in (referrer_id, referee_id):
            kinds |= by_participant.get(pid, set())
            if pid == referral.referee_id:
                kinds.add("referee")
    return tuple(sorted(kinds))


def _payment_shared_with(referral, referee_ident: Identity) -> int:
    """Referees of other referrers paying with this referee's instrument: a ring sharing cards."""
    from tracking.models import Referral

    if not referee_ident.payment:
        return 0
    other_referees = (
        Referral.objects.for_tenant(referral.tenant_id)
        .exclude(referrer_id=referral.referrer_id)
        .exclude(referee_id=referral.referee_id)
        .values("referee_id")
    )
    return (
        Fingerprint.objects.for_tenant(referral.tenant_id)
        .filter(kind="payment", token__in=referee_ident.payment, participant_id__in=other_referees)
        .exclude(participant_id__in=[referral.referrer_id, referral.referee_id])
        .values("participant_id")
        .distinct()
        .count()
    )


def linked_referral_ids(referral, codes: set[str], limit: int = 50) -> list[int]:
    """Referrals tied to this one by a linking signal: the same referrer's referrals in the
    velocity window, and referrals whose referee shares this referee's strong identifiers."""
    from tracking.models import Referral

    referrals = Referral.objects.for_tenant(referral.tenant_id).exclude(pk=referral.pk)
    ids: list[int] = []
    if codes & {"velocity", "burst", "burst_days", "refund_anomaly"}:
        ids += list(
            referrals.filter(
                referrer_id=referral.referrer_id,
                created_at__gte=referral.created_at - VELOCITY_WINDOW,
                created_at__lte=referral.created_at + VELOCITY_WINDOW,
            ).values_list("pk", flat=True)[:limit]
        )
    if codes & {"payment_reuse", "ring", "duplicate_referee"}:
        fingerprints = Fingerprint.objects.for_tenant(referral.tenant_id)
        tokens = fingerprints.filter(
            participant_id=referral.referee_id, kind__in=RING_KINDS
        ).values("token")
        sharing = fingerprints.filter(token__in=tokens).values("participant_id")
        ids += list(referrals.filter(referee_id__in=sharing).values_list("pk", flat=True)[:limit])
    return list(dict.fromkeys(ids))[:limit]


def assessment_facts(
    *, referral, stage_key: str, unreleased_rewards: int | None = None
) -> AssessmentFacts:
    tenant = referral.tenant
    click = _referral_click(referral)
    events = _recent_events(tenant, [referral.referee, referral.referrer])
    referee_events = events[referral.referee_id]
    referee = participant_identity(referral.referee, _contexts(referee_events), click=click)
    referrer = participant_identity(referral.referrer, _contexts(events[referral.referrer_id]))
    fingerprints_record(
        tenant,
        [(referral.referee, referee), (referral.referrer, referrer)],
        seen_at=referral.created_at,
    )

    click_to_signup = (referral.created_at - click.created_at).total_seconds() if click else None
    signup_to_purchase = None
    if stage_key != "signup":
        purchased_at = _first_event_time(tenant.pk, referral.referee_id, "purchase", referee_events)
        if purchased_at is not None:
            signup_to_purchase = (purchased_at - referral.created_at).total_seconds()

    from tracking.models import Referral

    times = _ReferrerTimes(referral)
    referees = times.all_referees
    referrer_purchases, referrer_refunds = _refund_counts(
        tenant.pk,
        set(referees) if len(referees) <= NAMED_REFEREES else times.mine.values("referee_id"),
    )
    program_purchases, program_refunds = 0, 0
    # The program-wide rate scans every referee's events; it only matters once this
    # referrer has enough refunds for the signal to be possible at all.
    if referrer_refunds >= REFUND_MIN_COUNT and referrer_purchases >= REFUND_MIN_PURCHASES:
        program_purchases, program_refunds = _refund_counts(
            tenant.pk,
            Referral.objects.for_tenant(tenant)
            .filter(program_id=referral.program_id)
            .values("referee_id"),
        )
    last_hour, usual = _burst(referral, times)
    week, usual_week, closest_hours = _burst_days(referral, times)
    circle = _circle(referral, referees)
    sharing = _Sharing(tenant.pk, [referee, referrer])
    ip_others = _ip_others(referee, sharing, circle)
    shared_ips = referrer.ip & referee.ip
    refund_after_reward_days, refund_inside_hold = _refund_timing(
        referral, stage_key, referee_events
    )
    code_leaked = bool(referral.code) and referral.code in _leaked_codes(tenant.pk)
    return AssessmentFacts(
        stage_key=stage_key,
        referrer=referrer,
        referee=referee,
        referee_email_disposable=identity.is_disposable_domain(referee.email_domain),
        referee_domain_is_free_mail=identity.is_free_mail_domain(referee.email_domain),
        click_to_signup_seconds=click_to_signup,
        signup_to_purchase_seconds=signup_to_purchase,
        velocity=_velocity(referral, referee, sharing, times, _public_ips(ip_others)),
        signups_last_hour=last_hour,
        signups_per_active_hour=usual,
        referrer_purchases=referrer_purchases,
        referrer_refunds=referrer_refunds,
        program_refund_rate=(program_refunds / program_purchases) if program_purchases else 0.0,
        refund_after_reward_days=refund_after_reward_days,
        refund_inside_hold=refund_inside_hold,
        unreleased_rewards=unreleased_rewards,
        blocklisted=_blocklisted(tenant.pk, [referee, referrer]),
        ring_kinds=_ring(referral, [referee, referrer], sharing),
        code_leaked=code_leaked,
        payment_shared_with=_payment_shared_with(referral, referee),
        shared_ip_others=max((ip_others.get(t, 0) for t in shared_ips), default=0),
        signups_week=week,
        signups_per_active_week=usual_week,
        signups_week_closest_hours=closest_hours,
        duplicates=_duplicates(referral, referee, sharing, circle),
    )
