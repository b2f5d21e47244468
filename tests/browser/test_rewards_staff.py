"""The demo owner works the rewards pages: a filtered list with exact totals, a payout batch
above the tenant's threshold that one person cannot approve alone (ops approves second),
its CSV read back, and the batch marked paid."""

from __future__ import annotations

import csv
import re
from datetime import timedelta

import pytest
from django.core.management import call_command

from referral_platform.core.spreadsheet import major_cell
from tests.browser.conftest import DESKTOP

pytestmark = pytest.mark.browser

PRIZES = [
    # participant, season rank, amount (minor units)
    ("ann-admin", 1, 50_000),
    ("bo-buyer", 2, 30_000),
    ("cy-lead", 3, 20_000),
]


@pytest.fixture
def season_paid_out(transactional_db):
    """Demo SaaS with last season's three cash prizes released and handed to payout (one
    quarterly batch of ¥1,000), plus 100 honor points and a prize still in its hold."""
    from programs.engine.types import RewardDecision
    from programs.models import Program
    from referral_platform.core import clock
    from referral_platform.core.calendar import period_key
    from referral_platform.tenancy.models import Tenant
    from rewards.models import PayoutBatch
    from rewards.services import period_rewards_persist, reward_fulfil, reward_release
    from tracking.services import participant_upsert

    call_command("seed_demo", "--no-data", verbosity=0)
    tenant = Tenant.objects.get(slug="demo-saas")
    program = Program.objects.for_tenant(tenant).get(slug="saas-b2b")
    now = clock.now()
    last_season = "period:" + period_key(now - timedelta(days=92), "quarter", tenant.calendar)
    people = {
        external_id: participant_upsert(tenant=tenant, external_id=external_id)[0]
        for external_id in ("ann-admin", "bo-buyer", "cy-lead", "di-dev")
    }

    def item(who, reason, kind, *, amount=None, points=None, due=now - timedelta(hours=1)):
        return RewardDecision(
            beneficiary_id=people[who].pk,
            side="referrer",
            scope=last_season,
            reason=reason,
            rule_key=reason.replace(":", "_"),
            kind=kind,
            amount_minor=amount,
            currency="CNY" if amount is not None else "",
            points=points,
            description="",
            status="pending",
            due_at=due,
        )

    decisions = [item(who, f"season:{rank}", "cash", amount=a) for who, rank, a in PRIZES]
    decisions.append(item("cy-lead", "honor:cap_honor", "points", points=100))
    decisions.append(item("di-dev", "season:4", "cash", amount=10_000, due=now + timedelta(days=7)))
    for reward in period_rewards_persist(tenant=tenant, program=program, decisions=decisions):
        if reward_release(reward_id=reward.pk):
            reward_fulfil(reward_id=reward.pk)
    return tenant, PayoutBatch.objects.for_tenant(tenant).get()


def _rows(page, selector: str) -> list[list[str]]:
    return [
        [cell.strip() for cell in row.locator("td").all_inner_texts()]
        for row in page.locator(f"{selector} tbody tr").all()
    ]


def _alerts(page) -> list[str]:
    return [t.strip() for t in page.locator(".page-body .alert").all_inner_texts()]


def test_owner_filters_rewards_and_a_second_person_approves_the_batch_before_it_is_paid(
    live_server, page, browser, season_paid_out, shot, staff_login
):
    from rewards.models import Payout, PayoutBatch, Reward

    tenant, batch = season_paid_out
    staff_login(page, live_server, "owner@demo.test", "demo-owner-pass")
    assert page.locator("[data-testid=tenant-switcher] .tenant-name").inner_text() == "Demo SaaS"

    # The list, filtered to approved cash: the three released prizes, not the one in its hold.
    page.goto(live_server.url + "/app/rewards/")
    filters = page.locator("[data-testid=reward-filters]")
    filters.locator("select[name=status]").select_option("approved")
    filters.locator("select[name=kind]").select_option("cash")
    filters.get_by_role("button", name="Filter").click()
    page.wait_for_url(re.compile(r".*status=approved&kind=cash.*"))
    assert _rows(page, "[data-testid=reward-totals]") == [["Approved", "Cash", "3", "¥1,000", ""]]
    assert sorted(r[1:5] for r in _rows(page, "[data-testid=reward-rows]")) == [
        ["ann-admin", "Refer a team", "Season prize: 1", "¥500 cash"],
        ["bo-buyer", "Refer a team", "Season prize: 2", "¥300 cash"],
        ["cy-lead", "Refer a team", "Season prize: 3", "¥200 cash"],
    ]
    shot(page, "rewards-filtered")
    page.goto(live_server.url + "/app/rewards/?participant=cy-lead")
    assert _rows(page, "[data-testid=reward-totals]") == [
        ["Approved", "Cash", "1", "¥200", ""],
        ["Fulfilled", "Points", "1", "", "100"],
    ]

    # Above ¥500 a batch needs two approvers.
    page.goto(live_server.url + "/app/rewards/payouts/")
    page.fill("#id_second_approval_above", "500")
    page.locator("[data-testid=payout-settings]").get_by_role("button", name="Save").click()
    assert _alerts(page) == ["Payout settings saved."]
    assert _rows(page, "[data-testid=batches]") == [
        ["Refer a team", "Quarterly", batch.period_key, "¥1,000", "Open"]
    ]
    page.locator("[data-testid=batches] a").click()
    page.wait_for_url(re.compile(rf".*/app/rewards/payouts/{batch.pk}/$"))
    assert page.locator("[data-testid=batch-total]").inner_text() == "Total: ¥1,000"

    page.get_by_role("button", name="Approve").click()
    assert _alerts(page) == ["Approved by you; a second person must approve it too."]
    page.get_by_role("button", name="Approve").click()
    assert _alerts(page) == ["A second person must approve this batch."]
    batch.refresh_from_db()
    assert (batch.status, batch.approved_by.email, batch.second_approved_by) == (
        "open",
        "owner@demo.test",
        None,
    )
    shot(page, "batch-needs-second-approver")

    # Ops signs in in another browser and gives the second approval.
    ops_context = browser.new_context(viewport=DESKTOP, locale="en-US")
    ops_context.set_default_timeout(15_000)
    ops = ops_context.new_page()
    ops_problems: list[str] = []
    ops.on("pageerror", lambda exc: ops_problems.append(str(exc)))
    try:
        staff_login(ops, live_server, "ops@demo.test", "demo-ops-pass")
        ops.goto(f"{live_server.url}/app/rewards/payouts/{batch.pk}/")
        ops.get_by_role("button", name="Approve").click()
        assert _alerts(ops) == ["The batch is approved."]
        assert ops.locator("[data-testid=batch-total]").inner_text() == (
            "Total: ¥1,000 · approved by owner@demo.test, ops@demo.test"
        )
        assert ops.get_by_role("button", name="Approve").count() == 0

        with ops.expect_download() as download:
            ops.get_by_role("link", name="Export CSV").click()
        assert download.value.suggested_filename == (f"payouts-quarter-{batch.period_key}-CNY.csv")
        with open(download.value.path(), newline="", encoding="utf-8") as f:
            exported = list(csv.reader(f))
    finally:
        ops_context.close()
    payouts = list(
        Payout.objects.for_tenant(tenant).select_related("reward__participant").order_by("id")
    )
    assert exported == [
        [
            "payout_id",
            "reward_id",
            "participant",
            "amount",
            "currency",
            "status",
            "created_at",
        ],
        *[
            [
                str(p.pk),
                str(p.reward_id),
                p.reward.participant.external_id,
                str(major_cell(p.amount_minor, "CNY")),
                "CNY",
                "requested",
                p.created_at.isoformat(),
            ]
            for p in payouts
        ],
    ]
    assert [row[2:4] for row in exported[1:]] == [
        ["ann-admin", "500.00"],
        ["bo-buyer", "300.00"],
        ["cy-lead", "200.00"],
    ]

    # Back to the owner: mark the approved batch paid.
    page.reload()
    page.get_by_role("button", name="Mark paid").click()
    assert _alerts(page) == ["3 payouts marked paid."]
    assert [r[1:] for r in _rows(page, "[data-testid=batch-payouts]")] == [
        ["ann-admin", "¥500", "Paid"],
        ["bo-buyer", "¥300", "Paid"],
        ["cy-lead", "¥200", "Paid"],
    ]
    assert page.locator(".page-title").inner_text().endswith("· Paid")
    shot(page, "batch-paid")
    assert PayoutBatch.objects.for_tenant(tenant).get().status == "paid"
    assert sorted(
        Reward.objects.for_tenant(tenant)
        .filter(kind="cash")
        .values_list("participant__external_id", "status")
    ) == [
        ("ann-admin", "fulfilled"),
        ("bo-buyer", "fulfilled"),
        ("cy-lead", "fulfilled"),
        ("di-dev", "pending"),
    ]
    assert page.console_problems == [] and ops_problems == []
