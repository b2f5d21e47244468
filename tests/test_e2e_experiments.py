"""A referrer-side A/B experiment end to end, through the public surfaces: variant B pays ¥80
instead of ¥50 on the paid stage. Referrers are assigned at enrollment, their friends' sign-ups
and purchases arrive as events, `tick` releases the rewards and the payouts are marked paid;
each referrer is paid its variant's amount, the experiments page counts exposure, conversions
and cost per variant exactly, and promoting the winner makes a version that pays ¥80 to
everyone — while a referral created before the promotion keeps the rules it was created under
(SEMANTICS §5)."""

from datetime import datetime, timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command

from programs.engine import assign_variant
from programs.templates_data import blank_spec
from tracking.models import Participant

pytestmark = pytest.mark.django_db

T0 = datetime.fromisoformat("2026-05-04T02:00:00+00:00")  # 10:00 in Shanghai
MAY = {"program": "ab", "from": "2026-05-01", "to": "2026-05-31"}


def _spec() -> dict:
    spec = blank_spec(slug="ab", name="Bring a friend")
    spec["status"] = "active"
    spec["attribution"] = {"window_days": 30, "model": "last"}
    spec["stages"][0]["hold"] = {"days": 7}
    spec["stages"][0]["rewards"] = [
        {"key": "thanks", "side": "referrer", "kind": "cash", "amount": 5000,
         "description": "¥50"},
    ]  # fmt: skip
    spec["experiments"] = [
        {"key": "amount", "side": "referrer", "variants": [
            {"key": "a", "weight": 50, "label": "¥50"},
            {"key": "b", "weight": 50, "label": "¥80", "overrides": {"stages": [
                {"key": "paid", "rewards": [
                    {"key": "thanks", "amount": 8000, "description": "¥80"}]}]}},
        ]},
    ]  # fmt: skip
    return spec


def _tick(at):
    with time_machine.travel(at, tick=False):
        call_command("tick", stdout=StringIO())


def test_each_variant_pays_its_amount_is_measured_and_the_winner_pays_everyone(
    api, client, tenant, marketer, django_capture_on_commit_callbacks
):
    def event(event_id, type_, external_id, at, **extra):
        body = {
            "event_id": event_id,
            "type": type_,
            "occurred_at": at.isoformat(),
            "participant": {"external_id": external_id, "email": f"{external_id}@163.com"},
            **extra,
        }
        with (
            time_machine.travel(at + timedelta(seconds=1), tick=False),
            django_capture_on_commit_callbacks(execute=True),
        ):
            response = api.post("/api/v1/events", body, format="json")
        assert response.status_code == 202, response.content

    def refer(code, friend, at, *, buys=True):
        event(f"{friend}-signup", "signup", friend, at, referral={"code": code})
        if buys:
            event(f"{friend}-order", "purchase", friend, at + timedelta(hours=1),
                  order_id=f"o-{friend}", amount={"amount_minor": 12900, "currency": "CNY"})  # fmt: skip

    def rewards_of(external_id):
        with time_machine.travel(T0 + timedelta(days=30), tick=False):
            rows = api.get("/api/v1/rewards", {"participant": external_id}).json()["results"]
        return sorted((r["amount"]["amount_minor"], r["status"]) for r in rows)

    # Referrers: the assignment is a hash of the participant id, so pick three of each.
    codes: dict[str, str] = {}
    picked: dict[str, list[str]] = {"a": [], "b": []}
    with time_machine.travel(T0, tick=False):
        assert api.post("/api/v1/programs", _spec(), format="json").status_code == 201
        n = 0
        while min(len(picked["a"]), len(picked["b"])) < 3:
            n += 1
            assert n < 60, "sixty participants without three of each variant"
            api.post("/api/v1/participants", {"external_id": f"r{n}"}, format="json")
            pk = Participant.objects.for_tenant(tenant).get(external_id=f"r{n}").pk
            variant = assign_variant(_spec(), "amount", pk)
            if len(picked[variant]) < 3:
                picked[variant].append(f"r{n}")
                enrolled = api.post(
                    "/api/v1/programs/ab/enrollments", {"participant": f"r{n}"}, format="json"
                )
                assert enrolled.status_code == 201 and enrolled.json()["eligible"] is True
                codes[f"r{n}"] = enrolled.json()["code"]
    (a1, a2, a3), (b1, b2, b3) = picked["a"], picked["b"]

    # Variant a: two of three referrers convert a friend. Variant b: all three do, b1 twice.
    at = T0 + timedelta(hours=1)
    for referrer in (a1, a2, b1, b2, b3):
        refer(codes[referrer], f"{referrer}-f1", at)
    refer(codes[b1], f"{b1}-f2", at)
    refer(codes[a3], f"{a3}-f1", at, buys=False)

    # The hold passes; cash is released as payouts, which the tenant marks paid.
    _tick(T0 + timedelta(days=7, hours=3))
    with time_machine.travel(T0 + timedelta(days=7, hours=4), tick=False):
        payouts = api.get("/api/v1/payouts", {"status": "requested"}).json()["results"]
        assert sorted(p["amount"]["amount_minor"] for p in payouts) == [5000] * 2 + [8000] * 4
        for payout in payouts:
            paid = api.post(f"/api/v1/payouts/{payout['id']}/paid", {}, format="json")
            assert paid.status_code == 200, paid.content

    assert {r: rewards_of(r) for r in picked["a"] + picked["b"]} == {
        a1: [(5000, "fulfilled")],
        a2: [(5000, "fulfilled")],
        a3: [],
        b1: [(8000, "fulfilled"), (8000, "fulfilled")],
        b2: [(8000, "fulfilled")],
        b3: [(8000, "fulfilled")],
    }

    client.force_login(marketer)
    with time_machine.travel(T0 + timedelta(days=8), tick=False):
        page = client.get("/app/analytics/experiments/", MAY)
    (result,) = page.context["results"]
    assert [
        (
            v["variant"],
            v["exposed"],
            v["converted"],
            v["cost_minor"],
            v["cost_per_conversion_minor"],
        )
        for v in result["variants"]
    ] == [("a", 3, 2, 10000, 5000), ("b", 3, 3, 32000, 10666)]

    # Promote b: a new version without the experiment, paying ¥80 on the paid stage.
    with time_machine.travel(T0 + timedelta(days=8), tick=False):
        promoted = client.post(
            "/app/analytics/experiments/promote/?program=ab&from=2026-05-01&to=2026-05-31",
            {"experiment": "amount", "variant": "b"},
        )
        assert promoted.status_code == 302
        spec = api.get("/api/v1/programs/ab").json()
    assert "experiments" not in spec
    assert spec["stages"][0]["rewards"] == [
        {"key": "thanks", "side": "referrer", "kind": "cash", "amount": 8000, "description": "¥80"}
    ]

    # After the promotion a variant-a referrer and a variant-b referrer earn ¥80 alike; a3's
    # friend, who signed up under version 1 and variant a, still earns ¥50 when buying now.
    later = T0 + timedelta(days=8, hours=1)
    refer(codes[a1], f"{a1}-f2", later)
    refer(codes[b2], f"{b2}-f2", later)
    event(f"{a3}-f1-order", "purchase", f"{a3}-f1", later + timedelta(hours=1),
          order_id=f"o-{a3}-f1", amount={"amount_minor": 12900, "currency": "CNY"})  # fmt: skip
    assert rewards_of(a1) == [(5000, "fulfilled"), (8000, "pending")]
    assert rewards_of(b2) == [(8000, "fulfilled"), (8000, "pending")]
    assert rewards_of(a3) == [(5000, "pending")]
