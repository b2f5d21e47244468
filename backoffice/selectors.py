"""Reads that compose several apps for staff: each app's part comes from its own selectors."""

from __future__ import annotations

from django.utils.translation import gettext_lazy

from fraud import selectors as fraud_selectors
from programs.engine.rewards import money
from rewards import selectors as rewards_selectors
from tracking import selectors as tracking_selectors

TIMELINE_KINDS = {
    "click": gettext_lazy("Click"),
    "event": gettext_lazy("Event"),
    "stage": gettext_lazy("Stage"),
    "fraud": gettext_lazy("Fraud"),
    "reward": gettext_lazy("Reward"),
}


def referral_story(referral) -> dict:
    """A referral's stages, fraud assessments and rewards, each oldest first: what the staff
    referral page and `GET /referrals/{id}` show beside the referral itself."""
    return {
        "stages": tracking_selectors.referral_stages(referral),
        "assessments": list(fraud_selectors.referral_assessments(referral)),
        "rewards": rewards_selectors.referral_rewards(referral=referral),
    }


def referral_timeline(referral, story: dict | None = None) -> list[dict]:
    """Clicks, touches, events, stage changes, fraud and rewards, in time order."""
    story = story if story is not None else referral_story(referral)
    items = tracking_selectors.referral_timeline(referral)
    for assessment in story["assessments"]:
        items.append(
            {
                "at": assessment.created_at,
                "kind": "fraud",
                "label": assessment.get_decision_display(),
                "detail": f"{assessment.stage_key} · {assessment.score}",
            }
        )
    for reward in story["rewards"]:
        items.append(
            {
                "at": reward.created_at,
                "kind": "reward",
                "label": reward.description or reward.reason_label(),
                "detail": reward.get_status_display(),
            }
        )
    for item in items:
        item["kind_label"] = TIMELINE_KINDS[item["kind"]]
    return sorted(items, key=lambda item: item["at"])


def program_in_flight(program) -> dict:
    """What a pause, an end or a new live version of a program leaves in flight: its rewards
    not yet released (rewards') and its referrals that may still earn, per version (tracking's)."""
    rewards = rewards_selectors.program_rewards_in_flight(program=program)
    by_version = tracking_selectors.program_referrals_in_flight(program=program)
    return {
        **rewards,
        "pending_amount": money(rewards["pending_amount_minor"], program.currency),
        "referrals": sum(by_version.values()),
        "by_version": sorted(by_version.items()),
    }


def staff_waiting(tenant) -> dict:
    """The work waiting for a person, for the staff home: open review cases (fraud's), payout
    batches to approve or to pay and failed payouts (rewards'). See `tenancy.readside.waiting`."""
    return {
        "review": fraud_selectors.open_cases_waiting(tenant),
        **rewards_selectors.payout_batches_waiting(tenant=tenant),
        "failed": rewards_selectors.payouts_failed_waiting(tenant=tenant),
    }
