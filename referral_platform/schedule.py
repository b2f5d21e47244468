"""Every periodic job, in the order `tick`, beat's `core.tick` and the embedded loop run
them (`settings.PERIODIC_JOBS`; run by `referral_platform.core.periodic`, each job isolated).

Like `urls.py`, this is where the apps are put together: each line names a job and the
function of its app that does it. The order matters: clicks are flushed before the events
that may cite them; events are processed before the sweeps that count their referrals;
holds are released before fulfilment; the rollups and webhook delivery come last so a tick's
own changes are in them. A new job is one line here.
"""

from __future__ import annotations

from analytics import periodic as analytics_jobs
from connectors import periodic as connectors_jobs
from fraud import periodic as fraud_jobs
from pipeline import jobs as pipeline_jobs
from referral_platform.webhooks import periodic as webhooks_jobs
from rewards import periodic as rewards_jobs
from tracking import periodic as tracking_jobs

JOBS = (
    ("tracking.flush_clicks", tracking_jobs.flush_clicks),
    ("tracking.sweep_events", pipeline_jobs.events_sweep),
    # Before anything counts or releases: a refund's fraud check may put its referral back in
    # review, and a referral in review is neither counted by a derived item nor released.
    ("fraud.assess_refunds", pipeline_jobs.assess_refunds),
    ("rewards.tiers", rewards_jobs.tiers),
    ("rewards.seasons", rewards_jobs.seasons),
    ("rewards.lottery", rewards_jobs.lottery),
    ("rewards.teams", rewards_jobs.teams),
    # After the event sweep, before release: a status reached now is granted in this run.
    ("rewards.ambassadors", rewards_jobs.ambassadors),
    ("fraud.assess_missed", pipeline_jobs.assess_missed),
    ("rewards.release_due", rewards_jobs.release_due),
    ("rewards.fulfil_approved", rewards_jobs.fulfil_approved),
    ("rewards.points_expiry", rewards_jobs.points_expiry),
    ("rewards.choice_nudges", rewards_jobs.choice_nudges),
    ("rewards.expire", rewards_jobs.expire_unreleased),
    # After fulfilment requested them: payouts leave through the tenant's provider.
    ("connectors.payouts", connectors_jobs.payouts),
    ("connectors.crm", connectors_jobs.crm),
    ("fraud.detect_leaked_codes", fraud_jobs.detect_leaked_codes),
    ("analytics.rollups", analytics_jobs.rollups_job),
    ("webhooks.deliver", webhooks_jobs.deliver_due),
    ("analytics.exports", analytics_jobs.exports_job),
)
