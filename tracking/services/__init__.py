"""Writes of the tracking app, one module per concern: participants, codes (enrollments,
the redirect's lookup, clicks), events, referrals (attribution, creation, stages), claims
(and invite-page leads). Each service guards first, then writes in one transaction; anything
slow is enqueued after commit. The public names are re-exported here."""

from .claims import claim_record, lead_signup
from .codes import (
    CODE_CACHE_SECONDS,
    LOCAL_SECONDS,
    _local,
    click_record,
    code_cache_forget,
    code_links,
    code_resolve,
    code_rotate,
    enrollment_create,
)
from .events import (
    CLAIM_HEARTBEAT,
    CLAIM_SECONDS,
    FUTURE_TOLERANCE,
    MAX_ATTEMPTS,
    body_hash,
    event_answer,
    event_claim,
    event_failed,
    event_get_claimed,
    event_ingest,
    event_ingest_batch,
    event_lock,
    event_mark_processed,
    event_participant_attach,
    event_referrals,
    events_claim,
    events_claim_refresh,
    events_claimed_load,
    events_due,
    events_mark_processed,
)
from .participants import (
    LEAD_PREFIX,
    participant_erase,
    participant_export,
    participant_fact,
    participant_get,
    participant_opt_out,
    participant_upsert,
)
from .referrals import (
    STATUS_RANK,
    referral_attribute,
    referral_create,
    referral_created_announce,
    referral_lock,
    referral_stages_apply,
    referral_status_set,
    referral_webhook_data,
    signup_attribute,
)

# --- The flow's entry points under their former names -----------------------------------------
# Processing an event or a claim crosses apps, so it lives in `pipeline.flow`; these names
# delegate there for the callers that still use them (tests, the fraud traffic generator).


def event_process(event):
    from pipeline import flow

    return flow.event_process(event)


def event_process_by_id(event_pk: int) -> str:
    from pipeline import flow

    return flow.event_process_by_id(event_pk)


def events_sweep(*, limit: int = 500, grace_seconds: int = 30) -> dict:
    from pipeline import flow

    return flow.events_sweep(limit=limit, grace_seconds=grace_seconds)


def claim_create(**kwargs):
    from pipeline import flow

    return flow.claim_process(**kwargs)


def referral_progress(*, referral, event=None):
    from pipeline import flow

    return flow.referral_advance(referral=referral, event=event)


__all__ = [
    "CLAIM_HEARTBEAT",
    "CLAIM_SECONDS",
    "CODE_CACHE_SECONDS",
    "FUTURE_TOLERANCE",
    "LEAD_PREFIX",
    "LOCAL_SECONDS",
    "MAX_ATTEMPTS",
    "STATUS_RANK",
    "_local",
    "body_hash",
    "claim_create",
    "claim_record",
    "click_record",
    "code_cache_forget",
    "code_links",
    "code_resolve",
    "code_rotate",
    "enrollment_create",
    "event_answer",
    "event_claim",
    "event_ingest",
    "event_failed",
    "event_get_claimed",
    "event_ingest_batch",
    "event_lock",
    "event_mark_processed",
    "event_participant_attach",
    "event_process",
    "event_process_by_id",
    "event_referrals",
    "events_claim",
    "events_claim_refresh",
    "events_claimed_load",
    "events_due",
    "events_mark_processed",
    "events_sweep",
    "lead_signup",
    "participant_erase",
    "participant_export",
    "participant_fact",
    "participant_get",
    "participant_opt_out",
    "participant_upsert",
    "referral_attribute",
    "referral_create",
    "referral_created_announce",
    "referral_lock",
    "referral_progress",
    "referral_stages_apply",
    "referral_status_set",
    "referral_webhook_data",
    "signup_attribute",
]
