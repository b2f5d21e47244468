"""The flow of one referral across the apps, in one place.

    event_process / claim_process
      tracking   attribute a sign-up (new referrals), attach the event
      fraud      assess each new referral at "signup"            → a Verdict (decision)
      tracking   apply the verdict (status), announce the referral
      programs   evaluate the stages once, on facts built once   (tracking's facts with
                                                                  fraud's decision)
      tracking   record the stages reached or reversed, the status they set
      fraud      assess each paying stage reached now            → a Verdict
      tracking + rewards  apply it (status; hold or reject rewards)
      rewards    sync: persist what the engine says is due, from the same facts and stages

Fraud never writes tracking's or rewards' rows; rewards never builds tracking's facts; each
app is called through its services and selectors. The fraud decision the engine reads has one
definition, `fraud.selectors.referral_fraud_decision`: no assessment, or one that failed to
score, means "review", never approve.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import threading

from django.db import OperationalError, transaction
from django.db import connections as db_connections

from fraud import selectors as fraud_selectors
from fraud import services as fraud_services
from programs import engine
from referral_platform.core import audit, clock, memo
from referral_platform.core.retry import retry_on_conflict
from referral_platform.tenancy.scoping import tenant_context
from rewards import selectors as rewards_selectors
from rewards import services as rewards_services
from tracking import selectors as tracking_selectors
from tracking import services as tracking
from tracking.models import EventStatus, EventType
from tracking.services import events as tracking_events

logger = logging.getLogger(__name__)

REVIEW, REJECTED, PENDING = "review", "rejected", "pending"


# --- Facts and stages, computed once per referral per pass ---------------------------------


def fraud_decision(referral, latest=None) -> str:
    """The fraud decision the engine reads: fraud's one definition, fail closed (`latest`:
    the referral's only assessment, stored just now)."""
    return fraud_selectors.referral_fraud_decision(referral, latest=latest)


def referral_facts(referral, latest=None):
    """Tracking's facts about `referral` with fraud's decision in them."""
    return tracking_selectors.referral_facts(
        referral, fraud_decision=fraud_decision(referral, latest)
    )


# --- Fraud: assess, then apply what it returns ---------------------------------------------


def verdict_apply(referral, verdict: fraud_services.Verdict) -> None:
    """Apply fraud's verdict: the referral's status (tracking), its rewards (rewards), then
    fraud's own audit entry and `conversion.flagged` webhook."""
    action = verdict.action
    if action == "hold":
        tracking.referral_status_set(referral, REVIEW, remember_previous=True)
        rewards_services.rewards_hold_for_review(referral=referral)
    elif action == "reject":
        tracking.referral_status_set(referral, REJECTED, remember_previous=True)
        rewards_services.rewards_reject(referral=referral, reason="fraud", actor=None)
    elif action == "hold_rewards":
        rewards_services.rewards_hold_for_review(referral=referral)
    if action:
        fraud_services.assessment_flagged(referral, verdict.assessment)


def assessment_run(*, referral, stage_key: str, linked: bool = True, new: bool = False):
    """Score `referral` at `stage_key` and apply the verdict; then score again, one level
    deep, the earlier referrals a linking pattern seen now implicates. Returns the
    assessment. If scoring raises, fraud's verdict is `review` (fail closed). A `new`
    referral (created in this transaction) is seen by no other transaction: it needs no
    lock, the row in hand is the one written, and it has no rewards, assessment or case."""
    # No savepoint: nothing inside is caught and carried on from; a failure ends the caller's
    # transaction (fraud's own scoring failures are caught, inside, by fraud).
    with transaction.atomic(savepoint=False):
        locked = referral if new else tracking.referral_lock(referral)
        verdict = fraud_services.assessment_score(
            referral=locked,
            stage_key=stage_key,
            unreleased_rewards=0
            if new
            else rewards_selectors.referral_unreleased_count(referral=locked),
            new=new,
        )
        verdict_apply(locked, verdict)
    _status_refresh(referral, locked)
    if linked:
        for other, previous_stage in fraud_services.linked_to_reassess(locked, verdict.assessment):
            assessment_run(referral=other, stage_key=previous_stage, linked=False)
    return verdict.assessment


def _status_refresh(referral, source) -> None:
    for name in ("status", "status_before_review", "status_changed_at"):
        setattr(referral, name, getattr(source, name))


# --- A referral's life -----------------------------------------------------------------------


def referral_opened(referral):
    """A referral just created: fraud scores the sign-up, then the `referral.created` webhook
    and the referrer's email. Returns the sign-up's assessment, the referral's only one."""
    assessment = assessment_run(referral=referral, stage_key="signup", new=True)
    tracking.referral_created_announce(referral)
    rewards_services.referral_notify(referral=referral)
    return assessment


def referral_advance(*, referral, event=None, opened=None):
    """A refund's reversals (when `event` is one), the stages the referee's events reach
    (evaluated once), fraud at each paying stage reached now, then the rewards due, all from
    the same facts and stage decisions. `opened` is the sign-up assessment of a referral this
    transaction created (`referral_opened`): its only assessment, and it has no rewards."""
    spec = tracking_selectors.referral_spec(referral)
    facts = referral_facts(referral, latest=opened)
    if event is not None and event.type == EventType.REFUND:
        rewards_services.refund_apply(referral=referral, event=event, facts=facts, spec=spec)
    stages = list(engine.evaluate_stages(spec, facts, clock.now(), referral.tenant.calendar))
    newly_paying = tracking.referral_stages_apply(referral=referral, decisions=stages)
    for stage_key in newly_paying:
        assessment_run(referral=referral, stage_key=stage_key)
    # The stages and fraud may have moved the status; the decision follows it. It reads only
    # the status and the latest assessment: unless either moved, it is the one we have.
    if newly_paying or referral.status != facts.status:
        facts = dataclasses.replace(
            facts, status=referral.status, fraud_decision=fraud_decision(referral)
        )
    rewards_services.referral_rewards_sync(
        referral=referral, facts=facts, stages=stages, spec=spec, new=opened is not None
    )
    return referral


def referral_rewards_sync(*, referral) -> list:
    """Sync one referral's rewards on its current facts and stages (no stage is recorded)."""
    spec = tracking_selectors.referral_spec(referral)
    facts = referral_facts(referral)
    stages = list(engine.evaluate_stages(spec, facts, clock.now(), referral.tenant.calendar))
    return rewards_services.referral_rewards_sync(
        referral=referral, facts=facts, stages=stages, spec=spec
    )


def refund_apply(*, referral, event) -> list:
    """A refund alone: rewards reverse inside the hold, claw back within `clawback_days`
    (`referral_advance` does this for a refund event, with the rest of the flow)."""
    return rewards_services.refund_apply(
        referral=referral, event=event, facts=referral_facts(referral)
    )


# --- Events ----------------------------------------------------------------------------------


@retry_on_conflict
@transaction.atomic
def event_process(event):
    """Attribution for a sign-up, then each referral whose referee this is advances (a
    refund's reversals first). Idempotent: a processed event is left alone."""
    return _event_process(event)


def _event_process(event, *, mark: bool = True, locked: bool = False):
    if not locked:
        event = tracking.event_lock(event)
    if event.status == EventStatus.PROCESSED:
        return event
    participant, new = tracking.event_participant_attach(event)
    # A participant created by this event has no referral but those its sign-up opens.
    opened, all_known = [], new
    if event.type == EventType.SIGNUP and participant.opted_out_at is None:
        opened, all_known = tracking.signup_attribute(
            event=event, participant=participant, referee_new=new
        )
    assessed = {referral.pk: referral_opened(referral) for referral in opened}
    for referral in opened if all_known else tracking.event_referrals(event):
        referral_advance(referral=referral, event=event, opened=assessed.get(referral.pk))
    # In a chunk, the events are marked processed together, before its commit.
    return tracking.event_mark_processed(event) if mark else event


def event_process_by_id(event_pk: int) -> str:
    """Claim, process, and record the outcome; safe to call any number of times."""
    outcome = events_process([event_pk])
    return next(name for name, count in outcome.items() if count)


def events_process(event_pks: list[int]) -> dict[str, int]:
    """Claim `event_pks` (one set-based claim) and process the events taken, in the order
    given, in one transaction with a savepoint per event: an event that raises is rolled
    back alone and recorded (`event_failed`: the sweep retries it after a back-off), the
    others commit together. A lock conflict with another worker (a deadlock, a lock
    timeout) commits what is done and goes on in a new transaction. Meanwhile a heartbeat
    keeps the claims alive; a worker that is killed leaves claims that expire within
    `CLAIM_SECONDS`, and the sweep takes them again. Safe to call any number of times:
    a processed event is left alone. Returns the count of each outcome."""
    outcome = {"processed": 0, "failed": 0, "skipped": 0}
    claimed = tracking.events_claim(list(event_pks))
    outcome["skipped"] = len(set(event_pks)) - len(claimed)
    if claimed:
        # Clicks still buffered land now, in their own transaction: one flushed inside the
        # chunk's would be lost with it if the chunk were undone.
        tracking.clicks_flush()
        with claims_heartbeat(claimed):
            pending = claimed
            while pending:
                pending = _chunk_process(pending, outcome)
    return outcome


def _chunk_process(event_pks: list[int], outcome: dict[str, int]) -> list[int]:
    """One transaction over claimed events; returns those left for the next one. The chunk
    runs first as a whole; if anything in it raises, all of it is undone and it runs again
    with a savepoint per event, so only what fails is left out."""
    if len(event_pks) > 1:
        done = _chunk_at_once(event_pks)
        if done is not None:
            outcome["processed"] += done
            return []
    return _chunk_event_by_event(event_pks, outcome)


def _chunk_at_once(event_pks: list[int]) -> int | None:
    """The chunk in one transaction without a savepoint per event: what a chunk where nothing
    fails, the common case, pays (two statements an event less). Returns how many were
    processed, or None when something raised: then nothing of it was kept (the callbacks
    waiting for the commit, webhooks and emails, went with it)."""
    events = tracking.events_claimed_load(event_pks)
    try:
        with transaction.atomic(), memo.memo_scope():
            events = tracking.events_lock(events)
            with audit.audit_deferred(), rewards_services.referral_notices_batched():
                for event in events:
                    with tenant_context(event.tenant):
                        _event_process(event, mark=False, locked=True)
            tracking.events_mark_processed([event.pk for event in events])
    except Exception as exc:  # noqa: BLE001 - the careful pass finds and records the culprit
        logger.info("chunk of %s events undone (%s); a savepoint each", len(events), exc)
        return None
    return len(events)


def _chunk_event_by_event(event_pks: list[int], outcome: dict[str, int]) -> list[int]:
    events = tracking.events_claimed_load(event_pks)
    processed, failed, rest = [], [], []
    try:
        with transaction.atomic(), memo.memo_scope():
            events = tracking.events_lock(events)
            for index, event in enumerate(events):
                try:
                    with transaction.atomic(), tenant_context(event.tenant):
                        _event_process(event, mark=False, locked=True)
                except OperationalError as exc:
                    if index:
                        # Another worker holds what this event needs: keep what is done.
                        rest = [e.pk for e in events[index:]]
                        break
                    failed.append((event, exc))
                except Exception as exc:  # noqa: BLE001 - recorded on the event, retried
                    failed.append((event, exc))
                else:
                    processed.append(event.pk)
            tracking.events_mark_processed(processed)
            for event, exc in failed:
                tracking.event_failed(event, exc)
    except Exception as exc:  # noqa: BLE001 - the chunk could not commit as a whole
        if len(events) > 1:
            logger.warning("chunk of %s events failed (%s); one at a time", len(events), exc)
            for event in events:
                _chunk_event_by_event([event.pk], outcome)
            return []
        for event in events:
            try:
                tracking.event_failed(event, exc)
            except Exception:  # noqa: BLE001 - the claim expires; the sweep retries it
                logger.exception("event %s failed and could not be recorded", event.pk)
        outcome["failed"] += len(events)
        return []
    outcome["processed"] += len(processed)
    outcome["failed"] += len(failed)
    return rest


@contextlib.contextmanager
def claims_heartbeat(event_pks: list[int], every: float | None = None):
    """While the block runs, a thread refreshes the claims of `event_pks` every
    `CLAIM_HEARTBEAT` seconds on its own connection (the block's transaction is not
    committed yet): a slow chunk keeps its events, a dead worker's claims lapse."""
    every = tracking.CLAIM_HEARTBEAT if every is None else every
    stop = threading.Event()

    def beat() -> None:
        try:
            while not stop.wait(every):
                try:
                    tracking.events_claim_refresh(event_pks)
                except Exception:  # noqa: BLE001 - a missed beat only shortens the lease
                    logger.warning("claim heartbeat failed", exc_info=True)
        finally:
            db_connections.close_all()  # this thread's own connections

    thread = threading.Thread(target=beat, name="claims-heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=30)


def events_sweep(*, limit: int = 500, grace_seconds: int = 30) -> dict:
    """Process the accepted events the broker never delivered (or whose worker died), in
    chunks of `EVENT_CHUNK` in the order they arrived."""
    outcome = {"processed": 0, "failed": 0, "skipped": 0}
    due = tracking.events_due(limit=limit, grace_seconds=grace_seconds)
    size = tracking_events.EVENT_CHUNK
    for start in range(0, len(due), size):
        for name, count in events_process(due[start : start + size]).items():
            outcome[name] += count
    return outcome


# --- Claims ----------------------------------------------------------------------------------


@transaction.atomic
def claim_process(
    *,
    tenant,
    program,
    referee_external_id: str,
    referrer_code: str = "",
    referrer_phone: str = "",
    referrer_email: str = "",
):
    """`POST /claims`: tracking records the claim (and attributes it if the referee has
    signed up); a referral created now goes through the same flow as one from an event."""
    claim, referral, created = tracking.claim_record(
        tenant=tenant,
        program=program,
        referee_external_id=referee_external_id,
        referrer_code=referrer_code,
        referrer_phone=referrer_phone,
        referrer_email=referrer_email,
    )
    if created:
        referral_opened(referral)
    elif referral is not None:
        # The claim contradicts how the referral was attributed: it waits for a person, in
        # the queue, with its cash held (fraud opens the case; the flow holds the rewards).
        assessment_run(referral=referral, stage_key="claim")
    if referral is not None:
        referral_advance(referral=referral)
    return claim


# --- Review decisions ------------------------------------------------------------------------


@transaction.atomic
def review_decide(*, referral, decision: str, actor, note: str = ""):
    """A reviewer approves (the referral returns to the status it had, its held rewards go
    back to their hold) or rejects (referral and unreleased rewards rejected)."""
    note = fraud_services.review_decision_check(
        tenant=referral.tenant, decision=decision, actor=actor, note=note
    )
    referral = tracking.referral_lock(referral)
    case = fraud_services.review_case_close(
        referral=referral, decision=decision, actor=actor, note=note
    )
    if decision == "approve":
        tracking.referral_status_set(
            referral, referral.status_before_review or PENDING, remember_previous=False
        )
        rewards_services.rewards_release_after_review(referral=referral, actor=actor)
    else:
        tracking.referral_status_set(referral, REJECTED, remember_previous=True)
        rewards_services.rewards_reject(referral=referral, reason="fraud", actor=actor)
    fraud_services.review_decided_audit(referral=referral, case=case, actor=actor)
    return case


def review_decide_bulk(
    *, tenant, referral_ids: list[int], decision: str, actor, note: str = ""
) -> dict:
    """Decide many referrals, each in its own transaction: one that was decided meanwhile by
    someone else is skipped, not a reason to undo the others."""
    from referral_platform.core.errors import Conflict

    fraud_services.reviewer_require(tenant, actor)
    done, skipped = [], []
    for referral in tracking_selectors.referral_list(tenant=tenant).filter(pk__in=referral_ids):
        try:
            review_decide(referral=referral, decision=decision, actor=actor, note=note)
            done.append(referral.pk)
        except Conflict:
            skipped.append(referral.pk)
    return {"decided": done, "skipped": skipped}
