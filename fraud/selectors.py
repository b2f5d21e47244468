"""Reads of the fraud app: policy in force, what the referrer may see, queues, evidence."""

from __future__ import annotations

from django.db.models import Count, Min
from django.utils.translation import gettext as _

from referral_platform.core import memo
from referral_platform.core.compiled import compiled

from .models import Assessment, CaseStatus, Dispute, FraudPolicy, ReviewCase
from .signals import Policy


def policy_for(tenant, program_id: int | None) -> Policy:
    """Built-in defaults, overridden by the tenant's policy, then by the program's."""
    tenant_id = tenant if isinstance(tenant, int) else tenant.pk
    return memo.once(
        ("fraud_policy", tenant_id, program_id), lambda: _policy(tenant_id, program_id)
    )


def _policy(tenant_id: int, program_id: int | None) -> Policy:
    policy = Policy()
    rows = {
        row.program_id: row
        for row in FraudPolicy.objects.for_tenant(tenant_id).filter(program_id__in=[program_id])
        | FraudPolicy.objects.for_tenant(tenant_id).filter(program=None)
    }
    for key in (None, program_id):
        row = rows.get(key)
        if row is not None:
            policy = policy.merged(
                review_threshold=row.review_threshold,
                reject_threshold=row.reject_threshold,
                weights=row.weights,
                forces=row.forces,
            )
    return policy


def _newest_first(referral):
    return (
        Assessment.objects.for_tenant(referral.tenant_id)
        .filter(referral=referral)
        .order_by("-created_at", "-pk")
    )


def latest_assessment(referral) -> Assessment | None:
    return _newest_first(referral).first()


@compiled
def _latest_decision(*, tenant_id: int, referral_id: int):
    return (
        Assessment.objects.for_tenant(tenant_id)
        .filter(referral_id=referral_id)
        .order_by("-created_at", "-pk")
        .values_list("decision", flat=True)[:1]
    )


def referral_fraud_decision(referral, *, latest: Assessment | None = None) -> str:
    """The decision the rule engine reads (`ReferralFacts.fraud_decision`).

    Fails closed: a referral that was never assessed counts as `review`, so its cash
    waits until an assessment (or a person) clears it. `latest` is the referral's newest
    assessment when the caller holds it (it stored the only one, just now).
    """
    if referral.status == "rejected":
        return "reject"
    if referral.status == "review":
        return "review"
    if latest is not None:
        return latest.decision
    found = _latest_decision(tenant_id=referral.tenant_id, referral_id=referral.pk)
    decision = found[0] if found else None
    return "review" if decision is None else decision


def assessment_summary(referral) -> dict | None:
    """The fraud part of `GET /referrals/{id}`."""
    assessment = latest_assessment(referral)
    if assessment is None:
        return None
    case = ReviewCase.objects.for_tenant(referral.tenant_id).filter(referral=referral).first()
    return {
        "stage": assessment.stage_key,
        "score": assessment.score,
        "decision": assessment.decision,
        "signals": [
            {"code": s["code"], "weight": s["weight"], "reason": s["reason"]}
            for s in assessment.signals
        ],
        "assessed_at": assessment.created_at.isoformat(),
        "review": (
            {
                "status": case.status,
                "due_at": case.due_at.isoformat(),
                "decided_at": case.decided_at.isoformat() if case.decided_at else None,
            }
            if case
            else None
        ),
    }


def referrer_facing_status(referral) -> str:
    """What the referrer is told about a referral. Never says "fraud" or "review": a
    rejected referral is "not eligible", one under review is still "being confirmed"."""
    labels = {
        "pending": _("Signed up"),
        "qualified": _("Qualified"),
        "converted": _("Converted"),
        "retained": _("Retained"),
        "review": _("Being confirmed"),
        "rejected": _("Not eligible for a reward"),
    }
    return str(labels.get(referral.status, _("Signed up")))


def dispute_list_for_participant(participant):
    return (
        Dispute.objects.for_tenant(participant.tenant_id)
        .filter(participant=participant)
        .order_by("-opened_at", "-pk")
    )


def open_cases_waiting(tenant) -> dict:
    """The open review cases: how many (the queue's rows without filters) and when the
    oldest was opened (None when there is none)."""
    return (
        ReviewCase.objects.for_tenant(tenant)
        .filter(status=CaseStatus.OPEN)
        .aggregate(cases=Count("pk"), oldest=Min("opened_at"))
    )


# --- the review queue ----------------------------------------------------------------------


def review_queue(
    tenant,
    *,
    program: str = "",
    signal: str = "",
    min_score=None,
    older_than_hours=None,
    status: str = "open",
    assignee=None,
):
    """Cases oldest first: the order in which they breach the SLA."""
    from datetime import timedelta

    from referral_platform.core import clock

    cases = (
        ReviewCase.objects.for_tenant(tenant)
        .select_related(
            "referral__referrer", "referral__referee", "program", "assignee", "decided_by"
        )
        .order_by("opened_at", "pk")
    )
    if status:
        cases = cases.filter(status=status)
    if program:
        cases = cases.filter(program__slug=program)
    if min_score is not None:
        cases = cases.filter(score__gte=min_score)
    if older_than_hours is not None:
        cases = cases.filter(opened_at__lte=clock.now() - timedelta(hours=older_than_hours))
    if assignee is not None:
        cases = cases.filter(assignee=assignee)
    if signal:
        # JSON containment is not portable to SQLite; the open queue is small enough to
        # filter in Python, and the page is paginated after this.
        ids = [
            pk for pk, codes in cases.values_list("pk", "signal_codes") if signal in (codes or [])
        ]
        cases = cases.filter(pk__in=ids)
    return cases


def review_case_get(tenant, referral_id: int) -> ReviewCase:
    """The case of a referral in this tenant; another tenant's is missing, exactly like a missing one."""
    from django.http import Http404

    case = (
        ReviewCase.objects.for_tenant(tenant)
        .select_related(
            "referral__referrer", "referral__referee", "referral__program", "assignee", "decided_by"
        )
        .filter(referral_id=referral_id)
        .first()
    )
    if case is None:
        raise Http404
    return case


def participant_other_referrals(referral, participant, limit: int = 50):
    from django.db.models import Q

    from tracking.models import Referral

    return (
        Referral.objects.for_tenant(referral.tenant_id)
        .filter(Q(referrer=participant) | Q(referee=participant))
        .exclude(pk=referral.pk)
        .select_related("referrer", "referee", "program")
        .order_by("-created_at")[:limit]
    )


def shared_identifiers(referral, limit: int = 100) -> list[dict]:
    """Every identifier of the referrer or referee that another participant also has:
    `[{"kind", "party", "between_parties", "others": [participant…], "rejected": n}]`."""
    from collections import defaultdict

    from tracking.models import Participant, Referral

    from .models import Fingerprint

    parties = {referral.referrer_id: "referrer", referral.referee_id: "referee"}
    mine = list(
        Fingerprint.objects.for_tenant(referral.tenant_id)
        .filter(participant_id__in=parties)
        .values_list("participant_id", "kind", "token")
    )
    tokens = {token for _, _, token in mine}
    holders: dict[str, set[int]] = defaultdict(set)
    for participant_id, token in (
        Fingerprint.objects.for_tenant(referral.tenant_id)
        .filter(token__in=tokens)
        .values_list("participant_id", "token")
    ):
        holders[token].add(participant_id)
    other_ids = {pid for ids in holders.values() for pid in ids} - set(parties)
    people = Participant.objects.for_tenant(referral.tenant_id).in_bulk(list(other_ids)[:500])
    rejected_ids = set(
        Referral.objects.for_tenant(referral.tenant_id)
        .filter(status="rejected")
        .filter(referee_id__in=other_ids)
        .values_list("referee_id", flat=True)
    ) | set(
        Referral.objects.for_tenant(referral.tenant_id)
        .filter(status="rejected")
        .filter(referrer_id__in=other_ids)
        .values_list("referrer_id", flat=True)
    )
    rows: dict[tuple[str, str], dict] = {}
    for participant_id, kind, token in mine:
        others = holders[token] - set(parties)
        between = set(parties) <= holders[token]
        if not others and not between:
            continue
        row = rows.setdefault(
            (kind, token),
            {
                "kind": kind,
                "parties": set(),
                "between_parties": between,
                "others": {},
                "rejected": 0,
            },
        )
        row["parties"].add(parties[participant_id])
        for pid in others:
            if pid in people:
                row["others"][pid] = people[pid]
    out = []
    for row in rows.values():
        row["parties"] = sorted(row["parties"])
        row["rejected"] = sum(1 for pid in row["others"] if pid in rejected_ids)
        row["others"] = list(row["others"].values())[:10]
        out.append(row)
    out.sort(key=lambda r: (not r["between_parties"], -r["rejected"], r["kind"]))
    return out[:limit]


def blocklist_entries_for(participant) -> list:
    """The tenant's blocklist entries that match this participant's email or phone."""
    from django.db.models import Q

    from . import identity
    from .models import BlockedIdentifier

    tokens = []
    if participant.email:
        tokens.append(("email", identity.email_token(participant.email)))
    if participant.phone:
        tokens.append(("phone", identity.phone_token(participant.phone)))
    query = Q(pk__in=[])
    for kind, token in tokens:
        if token:
            query |= Q(kind=kind, value_hash=token)
    return list(BlockedIdentifier.objects.for_tenant(participant.tenant_id).filter(query))


def referral_assessments(referral):
    return (
        Assessment.objects.for_tenant(referral.tenant_id)
        .filter(referral=referral)
        .order_by("created_at", "pk")
    )


DECISION_ACTIONS = (
    "review.approved",
    "review.rejected",
    "review.assigned",
    "fraud.review",
    "fraud.reject",
    "dispute.created",
    "dispute.answered",
    "fraud_policy.changed",
    "blocklist.added",
    "blocklist.removed",
    "code.flagged",
    "code.rotated",
    "code.dismissed",
)


def decision_log(tenant, *, referral_id: int | None = None):
    """The fraud part of the one audit log: automated flags and every human decision."""
    from referral_platform.core.models import AuditEntry

    entries = (
        AuditEntry.objects.for_tenant(tenant)
        .filter(action__in=DECISION_ACTIONS)
        .order_by("-created_at", "-pk")
    )
    if referral_id is not None:
        entries = entries.filter(target_type="tracking.referral", target_id=str(referral_id))
    return entries


def dispute_queue(tenant, *, status: str = "open"):
    qs = (
        Dispute.objects.for_tenant(tenant)
        .select_related("participant", "referral", "answered_by")
        .order_by("due_at", "pk")
    )
    return qs.filter(status=status) if status else qs


# --- backtesting ---------------------------------------------------------------------------

BACKTEST_DAYS = 90


def backtest_rows(tenant, *, program_id: int | None = None, days: int = BACKTEST_DAYS):
    """One row per referral created in the last `days`, with its latest stored signals."""
    from datetime import timedelta

    from referral_platform.core import clock
    from tracking.models import Referral

    from . import readside
    from .backtest import BacktestRow

    referrals = Referral.objects.for_tenant(tenant).filter(
        created_at__gte=clock.now() - timedelta(days=days)
    )
    if program_id:
        referrals = referrals.filter(program_id=program_id)
    referral_ids = list(referrals.values_list("pk", "referrer_id"))
    ids = [pk for pk, _ in referral_ids]
    latest: dict[int, list] = {}
    for referral_id, signals in (
        Assessment.objects.for_tenant(tenant)
        .filter(referral_id__in=ids)
        .order_by("created_at", "pk")
        .values_list("referral_id", "signals")
    ):
        latest[referral_id] = signals
    money = readside.reward_money(tenant=tenant, referral_ids=ids)
    honest = set(
        ReviewCase.objects.for_tenant(tenant)
        .filter(referral_id__in=ids, status=CaseStatus.APPROVED)
        .values_list("referral_id", flat=True)
    )
    return [
        BacktestRow(
            referral_id=pk,
            referrer_id=referrer_id,
            signals=tuple(latest.get(pk, [])),
            money=dict(money.get(pk, {})),
            judged_honest=pk in honest,
        )
        for pk, referrer_id in referral_ids
    ]


def cases_reward_money(tenant, cases) -> None:
    """Give each review case of a page `reward_money`: its referral's reward money (both
    sides, in the currency's major unit), which the queue shows so the costly cases are
    seen first. One read for the page, through rewards' port."""
    from referral_platform.core.money import format_minor

    from . import readside

    cases = list(cases)
    money = readside.reward_money(tenant=tenant, referral_ids=[c.referral_id for c in cases])
    for case in cases:
        by_currency = money.get(case.referral_id, {})
        case.reward_money = ", ".join(
            format_minor(amount, currency) for currency, amount in sorted(by_currency.items())
        )
