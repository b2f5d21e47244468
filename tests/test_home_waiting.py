"""The staff home lists the work waiting for the member's role, and each number on it is
the one the page it links to shows: the review queue's open cases, the payout batches'
totals (SEMANTICS: money in yuan where a person reads it)."""

from datetime import timedelta

import time_machine
from django.test import Client

from fraud.models import ReviewCase
from rewards import services as rewards_services
from rewards.models import Payout, PayoutBatch
from tests.scenario import local, tick
from tests.test_e2e_derived_rewards import decide, derived_spec, friend, referrer_code


def home(user) -> str:
    staff = Client()
    staff.force_login(user)
    page = staff.get("/app/")
    assert page.status_code == 200
    return page.content.decode()


def item(html: str, testid: str) -> str:
    """The visible text of one item of the "Waiting for you" card ("" when absent)."""
    if f'data-testid="{testid}"' not in html:
        return ""
    text = html.split(f'data-testid="{testid}"')[1].split("</a>")[0].split(">", 1)[1]
    while "<" in text:
        start = text.index("<")
        text = text[:start] + text[text.index(">", start) + 1 :]
    return " ".join(text.split())


def queue_rows(user) -> int:
    staff = Client()
    staff.force_login(user)
    return staff.get("/app/review/").content.decode().count('data-testid="case-row"')


def batch_totals(user) -> list[str]:
    """The batches page's totals, as a person reads them."""
    staff = Client()
    staff.force_login(user)
    html = staff.get("/app/rewards/payouts/").content.decode()
    table = html.split('data-testid="batches"')[1].split("</table>")[0]
    return [row.split('<td class="text-end">')[1].split("<")[0] for row in table.split("<tr>")[2:]]


def test_the_home_lists_review_cases_and_batches_as_their_pages_show_them(
    tenant, api, owner, ops, marketer, analyst
):
    code = referrer_code(tenant, api, derived_spec())
    ordered = local(3, 2)
    with time_machine.travel(ordered, tick=False):
        friend(api, code, "bob", ordered)  # clean: ¥20 for the referrer after the 7-day hold
        friend(api, code, "carol", ordered, colleague=True)  # held for review
        tick()
    [opened] = ReviewCase.objects.for_tenant(tenant).values_list("opened_at", flat=True)
    with time_machine.travel(opened + timedelta(seconds=30), tick=False):
        just_opened = "1 review case waiting · the oldest opened just now"
        assert item(home(ops), "waiting-review") == just_opened
    tick(ordered + timedelta(days=8))

    with time_machine.travel(ordered + timedelta(days=9, hours=2), tick=False):
        page = home(ops)
        assert queue_rows(ops) == 1
        assert (
            item(page, "waiting-review") == "1 review case waiting · the oldest for 1 week, 2 days"
        )
        [total] = batch_totals(ops)
        assert total == "¥20"
        listed = api.get("/api/v1/payouts").json()["results"]
        assert [(p["status"], p["amount"]["amount_minor"]) for p in listed] == [("requested", 2000)]
        assert item(page, "waiting-approve") == "1 payout batch to approve · ¥20"
        assert item(page, "waiting-pay") == ""
        assert item(home(owner), "waiting-approve") == "1 payout batch to approve · ¥20"

    # Marketers and analysts act on neither: no card.
    assert 'data-testid="waiting"' not in home(marketer)
    assert 'data-testid="waiting"' not in home(analyst)

    # Approved, the batch waits to be paid; decided, the case leaves the list.
    [batch] = PayoutBatch.objects.for_tenant(tenant)
    batch = rewards_services.payout_batch_approve(batch=batch, actor=ops)
    decide(tenant, ops, ["carol"], "approve")
    page = home(ops)
    assert item(page, "waiting-review") == ""
    assert item(page, "waiting-approve") == ""
    assert item(page, "waiting-pay") == "1 approved batch to pay · ¥20 not yet paid"

    rewards_services.payout_batch_mark_paid(batch=batch, actor=owner)
    page = home(ops)
    assert item(page, "waiting-pay") == ""
    assert "Nothing is waiting for you." in page


def failed_rows(user) -> list[tuple[str, str]]:
    """The rewards list filtered to failed payouts: (participant, value) per row."""
    staff = Client()
    staff.force_login(user)
    html = staff.get("/app/rewards/", {"payout": "failed"}).content.decode()
    table = html.split('data-testid="reward-rows"')[1].split("</table>")[0]
    rows = table.split("<tbody>")[1].split("<tr>")[1:]
    return [
        (
            row.split("</td>")[1].split("<td>")[1].split("<")[0],
            row.split('data-testid="reward-value">')[1].split("<")[0],
        )
        for row in rows
        if 'data-testid="reward-value"' in row
    ]


def test_a_failed_payout_waits_on_the_home_until_it_is_requested_again(tenant, api, ops):
    code = referrer_code(tenant, api, derived_spec())
    ordered = local(3, 2)
    with time_machine.travel(ordered, tick=False):
        friend(api, code, "bob", ordered)
        tick()
    tick(ordered + timedelta(days=8))
    [batch] = PayoutBatch.objects.for_tenant(tenant)
    rewards_services.payout_batch_approve(batch=batch, actor=ops)
    [payout] = Payout.objects.for_tenant(tenant)
    answer = api.post(
        f"/api/v1/payouts/{payout.pk}/failed", {"reason": "account closed"}, format="json"
    )
    assert answer.status_code == 200, answer.content
    assert answer.json()["amount"]["amount_minor"] == 2000

    page = home(ops)
    assert item(page, "waiting-failed") == "1 failed payout to request again · ¥20"
    assert item(page, "waiting-pay") == ""  # nothing left to pay in the approved batch
    assert failed_rows(ops) == [("boss", "¥20 cash")]

    rewards_services.payout_request_again(reward=payout.reward, actor=ops)
    page = home(ops)
    assert item(page, "waiting-failed") == ""
    assert failed_rows(ops) == []
    # Requested again, the payout waits in the period's follow-on batch.
    assert item(page, "waiting-approve") == "1 payout batch to approve · ¥20"
