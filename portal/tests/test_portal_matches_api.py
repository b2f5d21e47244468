"""The portal and the API read the same rows through the same selectors: for every referrer
of the three demo programs, each reward's value and expected date and the referral counts on
the portal equal what `GET /rewards` and `GET /referrals` say."""

from __future__ import annotations

import html as html_lib
import re
from datetime import datetime
from io import StringIO

from django.core.management import call_command
from rest_framework.test import APIClient

from portal.selectors import success_statuses
from programs.holdout import in_holdout
from programs.models import Program
from referral_platform.core import clock
from referral_platform.core.money import format_minor
from tracking.models import Enrollment

from .conftest import portal_client


def _all(api, path, **params):
    rows, url = [], path
    while url:
        page = api.get(url, params if url == path else None)
        assert page.status_code == 200, page.content
        rows += page.json()["results"]
        url = page.json()["next"]
    return rows


def _portal_rewards(page: str) -> dict[int, dict]:
    out = {}
    for rid, body in re.findall(
        r'<li data-testid="reward" data-reward="(\d+)">(.*?)</li>', page, re.S
    ):
        value = re.search(r'data-testid="reward-value">([^<]*)<', body).group(1)
        date = re.search(r'data-testid="reward-date" datetime="([^"]+)"', body)
        out[int(rid)] = {
            "value": html_lib.unescape(value),
            "date": datetime.fromisoformat(date.group(1)) if date else None,
        }
    return out


def _portal_counts(page: str) -> list[tuple[int, int, int]]:
    return [
        tuple(int(n) for n in m)
        for m in re.findall(
            r'data-testid="count-successful">(\d+)<.*?data-testid="count-in-hold">(\d+)<'
            r'.*?data-testid="count-rejected">(\d+)<',
            page,
            re.S,
        )
    ]


def _api_counts(api, external_id: str, program: Program) -> tuple[int, int, int]:
    referrals = _all(api, "/api/v1/referrals", referrer=external_id, program=program.slug)
    pending = _all(
        api, "/api/v1/rewards", participant=external_id, program=program.slug, status="pending"
    )
    held = {r["referral"] for r in pending if r["side"] == "referrer" and r["referral"]}
    live = [r for r in referrals if r["status"] != "rejected"]
    return (
        sum(1 for r in live if r["status"] in success_statuses(program.spec)),
        sum(1 for r in live if r["status"] == "review" or r["id"] in held),
        sum(1 for r in referrals if r["status"] == "rejected"),
    )


def _expected_value(reward: dict) -> str:
    """What the API's figures say the portal must show, in the currency's major unit."""
    if reward["kind"] == "coupon" and reward.get("percent_off") is not None:
        return f"{reward['percent_off']}% off"
    if reward["amount"]:
        return format_minor(reward["amount"]["amount_minor"], reward["amount"]["currency"])
    if reward["points"]:
        return str(reward["points"])
    return reward["description"]


def test_every_demo_referrer_sees_on_the_portal_the_figures_the_api_gives(db):
    out = StringIO()
    call_command("seed_demo", stdout=out)
    keys = dict(re.findall(r"^tenant=(\S+) program=\S+ api_key=(\S+)$", out.getvalue(), re.M))
    assert sorted(keys) == ["demo-saas", "demo-school", "demo-shop"]
    checked_rewards = referrers = held_out_pages = 0
    for slug, key in keys.items():
        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
        enrollments = (
            Enrollment.unscoped.filter(tenant__slug=slug, participant__erased_at__isnull=True)
            .select_related("participant", "program")
            .order_by("created_at")
        )
        by_participant: dict[str, list[Program]] = {}
        for e in enrollments:
            # A program that holds the participant out is not on their portal (SEMANTICS §10).
            shown_programs = by_participant.setdefault(e.participant.external_id, [])
            if not in_holdout(e.program, e.participant_id):
                shown_programs.append(e.program)
        for external_id, programs in by_participant.items():
            page = portal_client(api, external_id).get("/portal/").content.decode()
            now = clock.now()
            assert _portal_counts(page) == [_api_counts(api, external_id, p) for p in programs]
            if not programs:
                assert 'data-testid="no-program"' in page
                held_out_pages += 1
            shown = _portal_rewards(page)
            api_rewards = _all(api, "/api/v1/rewards", participant=external_id)
            assert set(shown) == {r["id"] for r in api_rewards}
            for reward in api_rewards:
                portal = shown[reward["id"]]
                assert _expected_value(reward) in portal["value"], (reward, portal)
                due = datetime.fromisoformat(reward["due_at"]) if reward["due_at"] else None
                waiting_for_hold = reward["status"] == "pending" and reward["hold_reason"] in (
                    None,
                    "hold",
                )
                if waiting_for_hold and due and due > now:
                    assert portal["date"] == due.replace(microsecond=0), (reward, portal)
                elif waiting_for_hold:
                    # Never a date already past shown as expected.
                    assert portal["date"] is None, (reward, portal)
                checked_rewards += 1
            referrers += 1
    assert referrers >= 3 and checked_rewards > 0
    # The shop's demo holds some of its members out: their portal has no program.
    assert held_out_pages > 0
