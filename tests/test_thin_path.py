"""The thinnest whole path, only through the public surfaces: a program posted to the API,
a referrer's link, a click on it, the friend's sign-up and purchase reported as events,
the hold passing under `tick`, the reward in the ledger, and the numbers on the funnel
API and the staff dashboard."""

from datetime import datetime, timedelta
from io import StringIO
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine
from django.core.management import call_command

from programs.templates_data import blank_spec
from rewards import ledger
from tracking.models import Participant

pytestmark = pytest.mark.django_db

PHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148"
T0 = datetime.fromisoformat("2026-05-04T02:00:00+00:00")  # 10:00 in Shanghai


def _spec():
    spec = blank_spec(slug="friends", name="Bring a friend")
    spec["status"] = "active"
    spec["landing_url"] = "https://shop.example.com/welcome"
    spec["attribution"] = {"window_days": 30, "model": "last"}
    spec["stages"][0]["hold"] = {"days": 7}
    spec["stages"][0]["rewards"] = [
        {
            "key": "thanks",
            "side": "referrer",
            "kind": "points",
            "points": 300,
            "description": "300 points",
        }
    ]
    return spec


def _tick(at):
    with time_machine.travel(at, tick=False):
        call_command("tick", stdout=StringIO())


def test_one_referral_from_program_to_dashboard(
    api, client, tenant, owner, django_capture_on_commit_callbacks
):
    with time_machine.travel(T0, tick=False):
        assert api.post("/api/v1/programs", _spec(), format="json").status_code == 201
        api.post(
            "/api/v1/participants",
            {"external_id": "alice", "email": "alice@gmail.com"},
            format="json",
        )
        enrolled = api.post(
            "/api/v1/programs/friends/enrollments", {"participant": "alice"}, format="json"
        ).json()
        assert enrolled["eligible"] is True
        code = enrolled["code"]

        clicked = client.get(f"/r/{code}", HTTP_USER_AGENT=PHONE)
        assert clicked.status_code == 302
        target = urlsplit(clicked["Location"])
        assert target.netloc == "shop.example.com"
        query = parse_qs(target.query)
        assert query["ref"] == [code]
        click_id = query["click_id"][0]

    def event(event_id, type_, at, **extra):
        body = {
            "event_id": event_id,
            "type": type_,
            "occurred_at": at.isoformat(),
            "participant": {"external_id": "bob", "email": "bob@163.com"},
            **extra,
        }
        # The task enqueued on commit processes it (in-process here; a worker in production).
        with (
            time_machine.travel(at + timedelta(seconds=1), tick=False),
            django_capture_on_commit_callbacks(execute=True),
        ):
            response = api.post("/api/v1/events", body, format="json")
        assert response.status_code == 202, response.content

    event(
        "bob-signup",
        "signup",
        T0 + timedelta(minutes=5),
        referral={"click_id": click_id},
        context={"ip": "198.51.100.7", "device_id": "bob-phone"},
    )
    event(
        "bob-order",
        "purchase",
        T0 + timedelta(hours=1),
        order_id="o-1",
        amount={"amount_minor": 12900, "currency": "CNY"},
    )

    with time_machine.travel(T0 + timedelta(days=1), tick=False):
        (referral,) = api.get("/api/v1/referrals", {"program": "friends"}).json()["results"]
        assert referral["status"] == "converted"
        (reward,) = api.get("/api/v1/rewards", {"participant": "alice"}).json()["results"]
        assert (reward["status"], reward["points"]) == ("pending", 300)

    _tick(T0 + timedelta(days=7, hours=2))
    (reward,) = api.get("/api/v1/rewards", {"participant": "alice"}).json()["results"]
    assert reward["status"] == "fulfilled"
    alice = Participant.objects.for_tenant(tenant).get(external_id="alice")
    account = ledger.participant_account(alice.pk)
    assert ledger.balances(tenant.pk, account) == {"points": 300}
    assert ledger.verify_ledger(tenant.pk) == []

    with time_machine.travel(T0 + timedelta(days=8), tick=False):
        funnel = api.get(
            "/api/v1/analytics/funnel",
            {"program": "friends", "from": "2026-05-01", "to": "2026-05-31"},
        ).json()
        client.force_login(owner)
        page = client.get("/app/analytics/", {"from": "2026-05-01", "to": "2026-05-31"})
    counts = funnel.get("counts", funnel)
    assert (counts["clicks"], counts["signups"], counts["converted"], counts["rewarded"]) == (
        1,
        1,
        1,
        1,
    )
    assert page.status_code == 200
    html = page.content.decode()
    for step in ("clicks", "signups", "converted", "rewarded"):
        row = html[html.index(f'data-step="{step}"') :]
        row = row[: row.index("</tr>")]
        assert '<td class="text-end">1</td>' in row, (step, row)
