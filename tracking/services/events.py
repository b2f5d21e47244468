"""Events: stored first (unique per tenant × event_id), enqueued after commit, claimed by one
worker at a time; `pipeline.flow.event_process` runs the flow for each."""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from referral_platform.core import clock
from referral_platform.core.compiled import compiled
from referral_platform.core.errors import Conflict
from referral_platform.core.ports import Port
from referral_platform.core.tasks import enqueue_on_commit

from .. import clickbuffer
from ..models import Event, EventStatus, Participant, Referral
from .participants import LEAD_PREFIX, participant_upsert

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
# A claim is a lease: the worker processing an event refreshes it every CLAIM_HEARTBEAT
# seconds (`events_claim_refresh`), so a worker that died (SIGKILL, lost machine) leaves
# claims that expire within CLAIM_SECONDS and the sweeper takes them (issue 15).
CLAIM_SECONDS = 30
CLAIM_HEARTBEAT = 10
# Events per processing task: small enough that a batch spreads over the worker processes
# and a task ends well inside its time limit, large enough that the broker is not the cost.
EVENT_CHUNK = 25
# A tenant's clock may run a little ahead of ours; an event dated further ahead than this
# is refused (422) rather than kept waiting for a time that may be a typo.
FUTURE_TOLERANCE = timedelta(minutes=5)


def body_hash(data: dict) -> str:
    return hashlib.sha256(
        json.dumps(data, sort_keys=True, separators=(",", ":"), default=str).encode()
    ).hexdigest()


def _event_row(tenant, data: dict, payload: dict) -> Event:
    amount = data.get("amount") or {}
    now = clock.now()
    occurred_at = data.get("occurred_at") or now
    return Event(
        tenant=tenant,
        event_id=data["event_id"],
        type=data["type"],
        occurred_at=occurred_at,
        # The rules see only events that have happened: one dated ahead (clock skew, within
        # FUTURE_TOLERANCE) is not claimable before its time, so the sweeper takes it then.
        claimed_until=occurred_at if occurred_at > now else None,
        external_id=data["participant"]["external_id"],
        order_id=data.get("order_id") or "",
        amount_minor=amount.get("amount_minor"),
        currency=(amount.get("currency") or "").upper(),
        payload=payload,
        body_hash=body_hash(payload),
    )


def event_answer(event: Event) -> dict:
    return {"id": event.pk, "event_id": event.event_id, "status": "accepted"}


def event_ingest(*, tenant, data: dict, payload: dict) -> tuple[Event, bool]:
    """Store first, unique per tenant × event_id; process after commit. Returns
    `(event, created)`; a retry with the same body returns the first row, another body
    under the same event_id is a conflict."""
    row = _event_row(tenant, data, payload)
    try:
        if transaction.get_connection().in_atomic_block:
            # Inside a caller's transaction a duplicate must not break it: a savepoint.
            with transaction.atomic():
                row.save(force_insert=True)
        else:
            # In autocommit the INSERT is its own transaction: one round trip, where atomic()
            # would add BEGIN and COMMIT. The unique constraint answers retries.
            row.save(force_insert=True)
    except IntegrityError:
        first = Event.objects.for_tenant(tenant).get(event_id=row.event_id)
        if first.body_hash != row.body_hash:
            raise Conflict(
                _("This event_id was sent before with a different body."), code="event_id_conflict"
            ) from None
        return first, False
    if row.claimed_until is None:
        _enqueue(tenant.pk, [row])
    return row, True


@transaction.atomic
def event_ingest_batch(*, tenant, items: list[tuple[int, dict, dict]]) -> dict[int, dict]:
    """`items` are `(index, data, payload)` of the valid events; answers per index."""
    results: dict[int, dict] = {}
    wanted = [data["event_id"] for _, data, _ in items]
    existing = {
        e.event_id: e
        for e in Event.objects.for_tenant(tenant)
        .filter(event_id__in=wanted)
        .only("pk", "event_id", "body_hash")
    }
    fresh: list[tuple[int, Event]] = []
    seen: dict[str, Event] = {}
    for index, data, payload in items:
        row = _event_row(tenant, data, payload)
        first = existing.get(row.event_id) or seen.get(row.event_id)
        if first is not None:
            if first.body_hash == row.body_hash:
                # `first` may be this batch's own unsaved row: its id is read after the insert.
                results[index] = {"index": index, "status": "duplicate", "id": first}
            else:
                results[index] = {
                    "index": index,
                    "status": "invalid",
                    "code": "event_id_conflict",
                    "fields": {
                        "event_id": [_("This event_id was sent before with a different body.")]
                    },
                }
            continue
        seen[row.event_id] = row
        fresh.append((index, row))
    if fresh:
        try:
            with transaction.atomic():
                Event.objects.for_tenant(tenant).bulk_create([row for _, row in fresh])
        except IntegrityError:
            # A concurrent request stored some of them: fall back to one by one.
            for index, row in fresh:
                try:
                    with transaction.atomic():
                        row.pk = None
                        row.save(force_insert=True)
                except IntegrityError:
                    first = Event.objects.for_tenant(tenant).get(event_id=row.event_id)
                    status = "duplicate" if first.body_hash == row.body_hash else "invalid"
                    results[index] = {"index": index, "status": status, "id": first.pk}
        if any(row.pk is None for _, row in fresh):
            # Backends without RETURNING on bulk insert: read the ids back.
            ids = dict(
                Event.objects.for_tenant(tenant)
                .filter(event_id__in=[row.event_id for _, row in fresh])
                .values_list("event_id", "pk")
            )
            for _index, row in fresh:
                row.pk = ids.get(row.event_id)
        for index, row in fresh:
            results.setdefault(index, {"index": index, "status": "accepted", "id": row.pk})
        _enqueue(
            tenant.pk,
            [
                row
                for index, row in fresh
                if results[index]["status"] == "accepted" and row.claimed_until is None
            ],
        )
    for result in results.values():
        if isinstance(result.get("id"), Event):
            result["id"] = result["id"].pk
    return results


def event_chunks(rows: list[Event], size: int | None = None) -> list[list[int]]:
    """The ids of `rows` in tasks of about `size` events, so that a batch is shared by every
    worker process and no task runs long: one participant's events stay in one chunk, in
    the order they happened (`occurred_at`, then arrival), so a batch's purchase is never
    processed before its sign-up. A participant with more than `size` events is one chunk.
    Across chunks and batches the participant's row lock (`event_participant_attach`)
    serialises their events, and a referral created later reads every event of its referee,
    so a purchase processed first is still counted once the sign-up creates the referral."""
    size = size or EVENT_CHUNK
    people: dict[str, list[Event]] = {}
    for row in sorted(rows, key=lambda r: (r.occurred_at, r.pk)):
        people.setdefault(row.external_id, []).append(row)
    chunks: list[list[int]] = []
    current: list[int] = []
    for events in people.values():
        if current and len(current) + len(events) > size:
            chunks.append(current)
            current = []
        current.extend(e.pk for e in events)
    if current:
        chunks.append(current)
    return chunks


# The task that runs the flow over stored events (`pipeline.tasks.events_process_task`, named
# `tracking.events_process`): the flow's, so pipeline fills this port at start-up.
events_process_task = Port("tracking.services.events.events_process_task")


def _enqueue(tenant_id: int, rows: list[Event]) -> None:
    # Broker down: logged, and the sweeper processes the stored events.
    task = events_process_task.provider
    for chunk in event_chunks(rows):
        enqueue_on_commit(task, tenant_id, chunk)


def _claimable(now):
    return Q(status=EventStatus.ACCEPTED) & (
        Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)
    )


def event_claim(event_pk: int, *, now=None) -> bool:
    """Take an event for processing with a conditional UPDATE, so two workers (a task and
    the sweeper) never process it at once; a claim left by a dead worker expires."""
    return event_pk in events_claim([event_pk], now=now)


def events_claim(event_pks: list[int], *, now=None) -> list[int]:
    """Take the claims of those of `event_pks` that are free (or expired), set-based: the
    ids taken, in the order given. Rows another worker holds locked (it is inside them) are
    skipped, never waited for. Two workers never hold the same claim; the lease lasts
    CLAIM_SECONDS unless its holder refreshes it (`events_claim_refresh`)."""
    now = now or clock.now()
    with transaction.atomic():
        free = set(
            Event.unscoped.filter(_claimable(now), pk__in=event_pks)
            .select_for_update(skip_locked=True)
            .values_list("pk", flat=True)
        )
        if free:
            Event.unscoped.filter(pk__in=free).update(
                claimed_until=now + timedelta(seconds=CLAIM_SECONDS)
            )
    return [pk for pk in dict.fromkeys(event_pks) if pk in free]


def events_claim_refresh(event_pks: list[int]) -> int:
    """The heartbeat of a worker processing `event_pks`: their claims (those still accepted)
    last another CLAIM_SECONDS. Rows locked by a transaction (the worker's own, processing
    them) are skipped: the row lock holds them. Returns how many were refreshed."""
    now = clock.now()
    with transaction.atomic():
        held = list(
            Event.unscoped.filter(pk__in=event_pks, status=EventStatus.ACCEPTED)
            .select_for_update(skip_locked=True)
            .values_list("pk", flat=True)
        )
        if held:
            Event.unscoped.filter(pk__in=held).update(
                claimed_until=now + timedelta(seconds=CLAIM_SECONDS)
            )
    return len(held)


def event_get_claimed(event_pk: int) -> Event | None:
    """The event, if this worker has just taken its claim (`event_claim`); else None."""
    if not event_claim(event_pk):
        return None
    return Event.unscoped.select_related("tenant").get(pk=event_pk)


def events_claimed_load(event_pks: list[int]) -> list[Event]:
    """The claimed events with their tenants, in the order given (one query)."""
    rows = Event.unscoped.select_related("tenant").in_bulk(event_pks)
    return [rows[pk] for pk in event_pks if pk in rows]


def event_failed(event: Event, exc: BaseException) -> None:
    """Record a failed attempt; the sweeper tries again after a back-off, up to MAX_ATTEMPTS."""
    attempts = event.attempts + 1
    Event.unscoped.filter(pk=event.pk).update(
        attempts=attempts,
        error=f"{exc.__class__.__name__}: {exc}"[:2000],
        status=EventStatus.FAILED if attempts >= MAX_ATTEMPTS else EventStatus.ACCEPTED,
        # Back off before the sweeper tries again.
        claimed_until=clock.now() + timedelta(seconds=60 * attempts),
    )
    logger.error("event %s failed (attempt %s)", event.pk, attempts, exc_info=exc)


def event_lock(event: Event) -> Event:
    """The event's row, locked for this transaction (the caller holds one); the tenant
    already loaded with `event` is kept rather than read again."""
    locked = Event.unscoped.select_for_update().get(pk=event.pk)
    if "tenant" in event._state.fields_cache and locked.tenant_id == event.tenant_id:
        locked.tenant = event.tenant
    return locked


def events_lock(events: list[Event]) -> list[Event]:
    """`event_lock` for many events in one query (rows locked in id order, so two callers
    cannot deadlock on them), returned in the order given."""
    rows = {
        e.pk: e
        for e in Event.unscoped.select_for_update()
        .filter(pk__in=[e.pk for e in events])
        .order_by("pk")
    }
    locked = []
    for event in events:
        row = rows.get(event.pk)
        if row is None:
            continue
        if "tenant" in event._state.fields_cache and row.tenant_id == event.tenant_id:
            row.tenant = event.tenant
        locked.append(row)
    return locked


def event_participant_attach(event: Event) -> tuple[Participant, bool]:
    """Upsert the event's participant (contact details as sent) and link the event to it;
    `(participant, created now)`."""
    person = event.payload.get("participant") or {}
    participant, created = participant_upsert(
        tenant=event.tenant,
        external_id=person["external_id"],
        email=person.get("email"),
        phone=person.get("phone"),
        is_lead=person["external_id"].startswith(LEAD_PREFIX),
    )
    event.participant = participant
    event.save(update_fields=["participant"])
    return participant, created


@compiled
def _referee_referrals(*, tenant_id: int, referee_id: int):
    return (
        Referral.objects.for_tenant(tenant_id)
        .filter(referee_id=referee_id)
        .select_related("program", "referrer")
    )


def event_referrals(event: Event) -> list[Referral]:
    """The referrals in which the event's participant is the referee, with their related
    rows (the tenant and the referee are the event's own)."""
    referrals = _referee_referrals(tenant_id=event.tenant_id, referee_id=event.participant_id)
    for referral in referrals:
        referral.tenant, referral.referee = event.tenant, event.participant
    return referrals


def event_mark_processed(event: Event) -> Event:
    event.status = EventStatus.PROCESSED
    event.processed_at = clock.now()
    event.claimed_until = None
    event.error = ""
    event.save(update_fields=["status", "processed_at", "claimed_until", "error"])
    return event


def events_mark_processed(event_pks: list[int]) -> None:
    """`event_mark_processed` for many, in one UPDATE (a chunk, before its commit); an event
    found processed already keeps its time."""
    if event_pks:
        Event.unscoped.filter(pk__in=event_pks, status=EventStatus.ACCEPTED).update(
            status=EventStatus.PROCESSED, processed_at=clock.now(), claimed_until=None, error=""
        )


def clicks_flush() -> int:
    """Write the clicks buffered in Redis (and this process's queue) to the database, in
    their own transaction; how many."""
    return clickbuffer.flush()


def events_due(*, limit: int = 500, grace_seconds: int = 30) -> list[int]:
    """What the broker never delivered: accepted events older than a short grace (so the
    normal task path goes first) whose claim is free or expired. Buffered clicks are flushed
    first, so the sign-ups among them find their clicks."""
    now = clock.now()
    clickbuffer.flush()
    return list(
        Event.unscoped.filter(
            status=EventStatus.ACCEPTED, received_at__lte=now - timedelta(seconds=grace_seconds)
        )
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .order_by("received_at")
        .values_list("pk", flat=True)[:limit]
    )
