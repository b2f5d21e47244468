"""The owner reads net cash on the staff pages: a paid ¥300 prize clawed back, then a ¥200
prize whose payout keeps the debt back (¥0 to pay, ¥100 still owed, carried forward)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.browser


@pytest.fixture
def clawed_back(transactional_db):
    from programs.engine.types import RewardDecision
    from programs.models import Program
    from referral_platform.core import clock
    from referral_platform.tenancy.models import Tenant
    from rewards.models import Payout
    from rewards.services import (
        payout_mark_paid,
        period_rewards_persist,
        reward_clawback,
        reward_fulfil,
        reward_release,
    )
    from tracking.services import participant_upsert

    call_command("seed_demo", "--no-data", verbosity=0)
    tenant = Tenant.objects.get(slug="demo-saas")
    program = Program.objects.for_tenant(tenant).get(slug="saas-b2b")
    ann = participant_upsert(tenant=tenant, external_id="ann-admin")[0]
    now = clock.now()

    def prize(reason, amount):
        decision = RewardDecision(
            beneficiary_id=ann.pk, side="referrer", scope="period:2026-Q1", reason=reason,
            rule_key=reason.replace(":", "_"), kind="cash", amount_minor=amount, currency="CNY",
            points=None, description="", status="pending", due_at=now - timedelta(hours=1),
        )  # fmt: skip
        [reward] = period_rewards_persist(tenant=tenant, program=program, decisions=[decision])
        assert reward_release(reward_id=reward.pk)
        assert reward_fulfil(reward_id=reward.pk) == "payout_requested"
        return reward

    first = prize("season:2", 30_000)
    payout_mark_paid(payout=Payout.objects.for_tenant(tenant).get(reward=first))
    assert reward_clawback(reward_id=first.pk, reason="fraud found after the season")
    second = prize("season:3", 20_000)
    return tenant, second, Payout.objects.for_tenant(tenant).get(reward=second)


def test_the_staff_pages_show_payouts_and_cash_net_of_clawbacks(
    live_server, page, clawed_back, shot, staff_login
):
    _tenant, reward, payout = clawed_back
    assert (payout.amount_minor, payout.offset_minor) == (0, 20_000)
    staff_login(page, live_server, "owner@demo.test", "demo-owner-pass")

    page.goto(f"{live_server.url}/app/rewards/{reward.pk}/")
    assert page.locator("[data-testid=reward-payouts] td").nth(1).inner_text() == (
        "¥0 (¥200 less ¥200 kept back for clawbacks)"
    )
    cash = page.locator("[data-testid=participant-cash]")
    assert cash.locator("thead th").all_text_contents() == [
        "Balance",
        "Payable",
        "Owed back, carried to the next payout",
    ]
    assert cash.locator("tbody td").all_inner_texts() == ["-¥300", "¥0", "¥100"]
    shot(page, "reward-net-cash")

    page.goto(f"{live_server.url}/app/rewards/payouts/{payout.batch_id}/")
    rows = page.locator("[data-testid=batch-payouts] tbody tr")
    assert [
        [cell.strip() for cell in rows.nth(i).locator("td").all_inner_texts()][2:]
        for i in range(rows.count())
    ] == [["¥300", "Paid"], ["¥0 (¥200 kept back for clawbacks)", "Requested"]]
    # The ¥300 paid before, and ¥0 to pay now.
    assert page.locator("[data-testid=batch-total]").inner_text() == "Total: ¥300"
    shot(page, "batch-net-cash")
    assert page.console_problems == []
