from datetime import datetime, timedelta

import pytest
import time_machine
from django.test import Client

from pipeline.flow import referral_rewards_sync
from referral_platform.core.periodic import run_all
from rewards.models import CouponCode, Payout, PayoutBatch, Reward, RewardSettings
from rewards.services import reward_settings_update
from rewards.tests import factories as f

T0 = datetime.fromisoformat("2026-03-02T10:00:00+00:00")


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def paid_out(tenant, engine):
    prog = f.program(tenant)
    refs = [f.referral(tenant, prog, referrer=f.participant(tenant, f"r{i}")) for i in range(2)]
    engine.answer = lambda facts: [
        f.decision(
            next(r for r in refs if r.pk == facts.referral_id).referrer,
            f"referral:{facts.referral_id}",
            "mql-cash",
            kind="cash",
            amount_minor=5000,
            due_at=T0,
        ),
        f.decision(
            next(r for r in refs if r.pk == facts.referral_id).referrer,
            f"referral:{facts.referral_id}",
            "gift",
            kind="donation",
            amount_minor=5000,
            due_at=T0,
        ),
    ]
    for r in refs:
        referral_rewards_sync(referral=r)
    with time_machine.travel(T0 + timedelta(hours=1), tick=False):
        run_all()
    return prog, PayoutBatch.objects.for_tenant(tenant).get()


def test_the_rewards_page_lists_rows_with_totals_and_filters(tenant, analyst, paid_out):
    client = login(analyst)
    page = client.get("/app/rewards/").content.decode()
    assert page.count('href="/app/rewards/') >= 4
    assert "¥100" in page  # two ¥50 cash rewards approved
    totals = page[page.index('data-testid="reward-totals"') :]
    totals = totals[: totals.index("</table>")]
    cash = next(row for row in totals.split("<tr>") if "¥100" in row)
    assert cash.replace(' class="text-end"', "").startswith(
        "<td>Approved</td><td>Cash</td><td>2</td><td>¥100</td>"
    ), cash
    only_cash = client.get(
        "/app/rewards/", {"kind": "donation", "status": "fulfilled"}
    ).content.decode()
    assert "mql-cash" not in only_cash and '<td title="stage:gift">Stage: gift</td>' in only_cash


def test_a_rewards_history_shows_its_audit_trail_and_ledger(tenant, owner, paid_out):
    donation = Reward.objects.for_tenant(tenant).filter(kind="donation").first()
    page = login(owner).get(f"/app/rewards/{donation.pk}/").content.decode()
    assert "reward.created" in page and "reward.approved" in page and "reward.fulfilled" in page
    assert "charity:" in page and "¥50" in page
    png = login(owner).get(f"/app/rewards/{donation.pk}/certificate.png")
    assert png.status_code == 200 and png.content[:8] == b"\x89PNG\r\n\x1a\n"


def test_another_tenants_reward_and_batch_are_404(outsider, tenant, paid_out):
    reward = Reward.objects.for_tenant(tenant).first()
    client = login(outsider)
    assert client.get(f"/app/rewards/{reward.pk}/").status_code == 404
    assert client.get(f"/app/rewards/payouts/{paid_out[1].pk}/").status_code == 404
    assert client.post(f"/app/rewards/payouts/{paid_out[1].pk}/approve/").status_code == 404
    assert "<td>r0</td>" not in client.get("/app/rewards/").content.decode()


def test_an_analyst_cannot_approve_a_batch_or_claw_back(analyst, tenant, paid_out):
    client = login(analyst)
    assert client.post(f"/app/rewards/payouts/{paid_out[1].pk}/approve/").status_code == 403
    reward = Reward.objects.for_tenant(tenant).filter(kind="donation").first()
    assert client.post(f"/app/rewards/{reward.pk}/clawback/").status_code == 403


def test_a_batch_above_the_threshold_needs_a_second_approver_then_exports_and_is_paid(
    tenant, owner, ops, paid_out
):
    _, batch = paid_out
    # The batch holds ¥100; above ¥50 it needs two approvers.
    res = login(owner).post("/app/rewards/payouts/settings/", {"second_approval_above": "50"})
    assert res.status_code == 302
    assert RewardSettings.objects.for_tenant(tenant).get().second_approval_above_minor == 5000
    client = login(ops)
    client.post(f"/app/rewards/payouts/{batch.pk}/approve/")
    batch.refresh_from_db()
    assert batch.status == "open" and batch.approved_by == ops
    client.post(f"/app/rewards/payouts/{batch.pk}/approve/")
    batch.refresh_from_db()
    assert batch.status == "open"  # the same person twice does not count
    login(owner).post(f"/app/rewards/payouts/{batch.pk}/approve/")
    batch.refresh_from_db()
    assert batch.status == "approved" and batch.second_approved_by == owner
    csv_text = client.get(f"/app/rewards/payouts/{batch.pk}/export.csv").content.decode()
    lines = csv_text.strip().splitlines()
    assert lines[0].startswith("payout_id,reward_id,participant,amount,currency")
    assert sorted(line.split(",")[2:5] for line in lines[1:]) == [
        ["r0", "50.00", "CNY"],
        ["r1", "50.00", "CNY"],
    ]
    client.post(f"/app/rewards/payouts/{batch.pk}/paid/")
    assert set(Payout.objects.for_tenant(tenant).values_list("status", flat=True)) == {"paid"}
    assert set(
        Reward.objects.for_tenant(tenant).filter(kind="cash").values_list("status", flat=True)
    ) == {"fulfilled"}


def test_cash_released_after_its_periods_batch_was_paid_waits_in_a_follow_on_batch(
    tenant, ops, engine, paid_out
):
    prog, batch = paid_out
    client = login(ops)
    client.post(f"/app/rewards/payouts/{batch.pk}/approve/")
    client.post(f"/app/rewards/payouts/{batch.pk}/paid/")
    batch.refresh_from_db()
    assert batch.status == "paid"
    late = f.referral(tenant, prog, referrer=f.participant(tenant, "r2"))
    engine.answer = lambda facts: [
        f.decision(late.referrer, f"referral:{late.pk}", "mql-cash", kind="cash",
                   amount_minor=7000, due_at=T0),
    ]  # fmt: skip
    referral_rewards_sync(referral=late)
    with time_machine.travel(T0 + timedelta(hours=2), tick=False):
        run_all()
    payout = Payout.objects.for_tenant(tenant).get(reward__referral=late)
    follow_on = payout.batch
    assert (follow_on.period_key, follow_on.status) == (f"{batch.period_key}-2", "open")
    assert (payout.status, payout.amount_minor) == ("requested", 7000)
    page = client.get("/app/rewards/payouts/").content.decode()
    row = page.split(f'href="/app/rewards/payouts/{follow_on.pk}/"')[1].split("</tr>")[0]
    assert f"<td>{follow_on.period_key}</td>" in row and "¥70" in row and "Open" in row
    client.post(f"/app/rewards/payouts/{follow_on.pk}/approve/")
    client.post(f"/app/rewards/payouts/{follow_on.pk}/paid/")
    payout.refresh_from_db()
    assert payout.status == "paid"


def test_the_second_approval_threshold_is_typed_and_shown_as_an_amount(tenant, owner, marketer):
    client = login(owner)
    assert "Second approval above (CNY)" in client.get("/app/rewards/payouts/").content.decode()
    res = login(marketer).post("/app/rewards/payouts/settings/", {"second_approval_above": "500"})
    assert res.status_code == 403
    assert not RewardSettings.objects.for_tenant(tenant).exists()
    res = client.post("/app/rewards/payouts/settings/", {"second_approval_above": "1234.5"})
    assert res.status_code == 302
    assert RewardSettings.objects.for_tenant(tenant).get().second_approval_above_minor == 123450
    page = client.get("/app/rewards/payouts/").content.decode()
    assert 'name="second_approval_above" value="1234.50"' in page
    client.post("/app/rewards/payouts/settings/", {"second_approval_above": ""})
    assert RewardSettings.objects.for_tenant(tenant).get().second_approval_above_minor is None


@pytest.mark.parametrize(
    ("typed", "error"),
    [
        ("-1", "Ensure this value is greater than or equal to 0."),
        ("500.001", "Enter at most 2 decimal places."),
        ("five hundred", "Enter a number."),
    ],
)
def test_a_threshold_that_is_not_an_amount_is_refused_with_a_field_error(
    tenant, owner, typed, error
):
    reward_settings_update(tenant=tenant, second_approval_above_minor=5000, actor=owner)
    res = login(owner).post("/app/rewards/payouts/settings/", {"second_approval_above": typed})
    assert res.status_code == 422
    assert res.context["settings_form"].errors == {"second_approval_above": [error]}
    assert f'<div class="invalid-feedback d-block">{error}</div>' in res.content.decode()
    assert RewardSettings.objects.for_tenant(tenant).get().second_approval_above_minor == 5000


def test_a_marketer_uploads_a_coupon_pool_and_issued_coupons_draw_from_it(tenant, marketer, engine):
    from django.core.files.uploadedfile import SimpleUploadedFile

    prog = f.program(tenant)
    client = login(marketer)
    upload = SimpleUploadedFile(
        "codes.csv", b"code\nSPRING-1\nSPRING-2\nSPRING-2\n", content_type="text/csv"
    )
    client.post(
        "/app/rewards/coupons/upload/",
        {"program": prog.slug, "rule_key": "paid-coupon", "file": upload},
    )
    assert sorted(CouponCode.objects.for_tenant(tenant).values_list("code", flat=True)) == [
        "SPRING-1",
        "SPRING-2",
    ]
    ref = f.referral(tenant, prog)
    engine.answer = lambda facts: [
        f.decision(
            ref.referrer,
            f"referral:{ref.pk}",
            "paid-coupon",
            kind="coupon",
            amount_minor=2500,
            due_at=T0,
        )
    ]
    referral_rewards_sync(referral=ref)
    with time_machine.travel(T0 + timedelta(hours=1), tick=False):
        run_all()
    assert Reward.objects.for_tenant(tenant).get().details["code"] == "SPRING-1"
    page = client.get("/app/rewards/coupons/").content.decode()
    assert "paid-coupon" in page


def test_charity_totals_show_the_running_total(tenant, owner, paid_out):
    page = login(owner).get("/app/rewards/charity/").content.decode()
    assert "¥100" in page


def test_staff_read_each_rewards_value_as_the_participant_does(tenant, analyst, engine):
    prog = f.program(tenant)
    referral = f.referral(tenant, prog, referrer=f.participant(tenant, "r0"))
    engine.answer = lambda facts: [
        f.decision(referral.referrer, f"referral:{referral.pk}", "draw", kind="lottery_ticket",
                   points=1),
        f.decision(referral.referrer, f"referral:{referral.pk}", "miles", kind="points",
                   points=250),
        f.decision(referral.referrer, f"referral:{referral.pk}", "cash", kind="cash",
                   amount_minor=5000),
    ]  # fmt: skip
    referral_rewards_sync(referral=referral)
    client = login(analyst)
    page = client.get("/app/rewards/").content.decode()
    values = sorted(cell.split("<")[0] for cell in page.split('data-testid="reward-value">')[1:])
    assert values == ["1 lottery ticket", "250 points", "¥50 cash"]
    ticket = Reward.objects.for_tenant(tenant).get(kind="lottery_ticket")
    detail = client.get(f"/app/rewards/{ticket.pk}/").content.decode()
    assert detail.split('data-testid="reward-value">')[1].startswith("1 lottery ticket")
