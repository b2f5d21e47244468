"""A green-home shop (SCENARIOS B) with Alice as the referrer, driven through the public
API and `tick` so the portal reads rows made by the real pipeline."""

from __future__ import annotations

from datetime import datetime, timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.test import Client

from programs.services import program_create
from programs.templates_data.green_home import green_home_spec
from referral_platform.core import clock
from tracking.models import Participant

# A Monday, 10:00 in Shanghai.
T0 = datetime.fromisoformat("2026-04-06T02:00:00+00:00")


def post_event(api, event_id, type_, who, at, **extra):
    body = {
        "event_id": event_id,
        "type": type_,
        "occurred_at": at.isoformat(),
        "participant": {"external_id": who},
        **extra,
    }
    # Sent once it has occurred: the API refuses events dated more than 5 minutes ahead.
    with time_machine.travel(max(clock.now(), at), tick=False):
        response = api.post("/api/v1/events", body, format="json")
    assert response.status_code == 202, response.content


def tick():
    # A minute later: the event sweeper leaves fresh events to their on-commit task for 30 s.
    with time_machine.travel(clock.now() + timedelta(minutes=1), tick=False):
        call_command("tick", stdout=StringIO())


def refer(api, code, friend, at, *, email, buy=True, amount=12000):
    api.post(
        "/api/v1/participants",
        {"external_id": friend, "email": email},
        format="json",
    )
    post_event(api, f"{friend}-signup", "signup", friend, at, referral={"code": code})
    if buy:
        post_event(
            api,
            f"{friend}-buy",
            "purchase",
            friend,
            at + timedelta(hours=1),
            order_id=f"o-{friend}",
            amount={"amount_minor": amount, "currency": "CNY"},
        )


def enrol_alice(api, program: str = "green-home") -> str:
    """Alice, an eligible green-home customer, enrolled through the API; her code."""
    api.post(
        "/api/v1/participants",
        {"external_id": "alice", "name": "Alice", "email": "alice@example.test",
         "attributes": {"orders_count": 3, "phone_verified": True}},
        format="json",
    )  # fmt: skip
    return api.post(
        f"/api/v1/programs/{program}/enrollments", {"participant": "alice"}, format="json"
    ).json()["code"]


def shop_with_charity(tenant, api, *, certificate: bool | None = None) -> None:
    """Green-home with a ¥5 charity match per success; Lena, Alice's friend, signs up at T0
    and buys an hour later, and the sign-up stage's rewards are due by the tick at T0 + 3 h."""
    spec = green_home_spec(2026)
    spec["status"] = "active"
    spec["charity"] = {"key": "trees", "amount": 500, "description": "A tree planted"}
    if certificate is not None:
        spec["charity"]["certificate"] = certificate
    program_create(tenant=tenant, spec=spec, actor=None)
    code = enrol_alice(api)
    with time_machine.travel(T0 + timedelta(hours=1), tick=False):
        refer(api, code, "lena", T0, email="lena@gmail.com")
    with time_machine.travel(T0 + timedelta(hours=3), tick=False):
        tick()


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    # Rate-limit counters live in the cache; each test starts with none.
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def shop(tenant, api):
    spec = green_home_spec(2026)
    spec["status"] = "active"
    program = program_create(tenant=tenant, spec=spec, actor=None)
    created = api.post(
        "/api/v1/participants",
        {
            "external_id": "alice",
            "email": "alice@example.test",
            "name": "Alice",
            "attributes": {"orders_count": 3, "phone_verified": True},
        },
        format="json",
    )
    assert created.status_code in (200, 201), created.content
    enrolled = api.post(
        "/api/v1/programs/green-home/enrollments", {"participant": "alice"}, format="json"
    )
    assert enrolled.status_code in (200, 201), enrolled.content
    alice = Participant.objects.for_tenant(tenant).get(external_id="alice")
    return program, enrolled.json()["code"], alice


@pytest.fixture
def busy_shop(shop, api, tenant):
    """Alice's friends at T0 + 3 days: Lena bought and kept it, Bob bought and returned it
    inside the 7-day window, Carol only signed up."""
    program, code, alice = shop
    with time_machine.travel(T0, tick=False):
        refer(api, code, "lena", T0, email="lena.w@gmail.com")
        refer(api, code, "bob", T0, email="bob@example.org")
        refer(api, code, "carol", T0 + timedelta(hours=2), email="carol@example.net", buy=False)
    with time_machine.travel(T0 + timedelta(hours=3), tick=False):
        tick()
    with time_machine.travel(T0 + timedelta(days=3), tick=False):
        post_event(
            api,
            "bob-refund",
            "refund",
            "bob",
            T0 + timedelta(days=3),
            order_id="o-bob",
            amount={"amount_minor": 12000, "currency": "CNY"},
        )
        tick()
    return program, code, alice


def portal_client(api, external_id: str, return_url: str = "") -> Client:
    """A browser-like client signed into the portal through a real session link."""
    body = {"participant": external_id}
    if return_url:
        body["return_url"] = return_url
    response = api.post("/api/v1/portal-sessions", body, format="json")
    assert response.status_code == 201, response.content
    client = Client()
    url = response.json()["url"]
    opened = client.get(url[url.index("/portal/") :])
    assert opened.status_code == 302, opened.content
    return client
