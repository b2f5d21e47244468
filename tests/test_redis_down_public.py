"""Redis stopped while customers click, sign up and open their portal and staff sign in:
every page answers as usual, no click and no lead is lost, and the degraded cache calls are
counted in /metrics. The cache, the rate limiters, the click buffer and the broker are all
a private redis-server of this test's own, which it stops halfway."""

from __future__ import annotations

import time

import pytest
from django.test import override_settings

from programs.services import program_create
from referral_platform.celery import app
from referral_platform.core import cache as resilient
from referral_platform.core.testing import (
    drop_broker_connections,
    private_redis_or_skip,
    wait_for,
)
from tracking import clickbuffer, services
from tracking.models import Click, Event, Participant
from tracking.tests.conftest import make_spec

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

PHONE_UA = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148"


@pytest.fixture
def redis_server():
    server = private_redis_or_skip()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def on_private_redis(redis_server, monkeypatch):
    """Cache, click buffer and broker on the private Redis, as in production."""
    caches = {
        "default": {
            "BACKEND": "referral_platform.core.cache.ResilientRedisCache",
            "LOCATION": redis_server.url,
            "KEY_PREFIX": "down",
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
    monkeypatch.setattr(clickbuffer, "KEY", "tracking:clicks:redis-down-test")
    monkeypatch.setattr(resilient, "RETRY_AFTER", 0.2)
    resilient.degraded.clear()
    saved = {key: app.conf[key] for key in ("broker_url", "task_always_eager")}
    app.conf.update(broker_url=redis_server.url, task_always_eager=False)
    drop_broker_connections(app)
    with override_settings(
        CACHES=caches, CELERY_TASK_ALWAYS_EAGER=False, TRACKING_CLICK_BUFFER_URL=redis_server.url
    ):
        yield redis_server
    app.conf.update(saved)
    drop_broker_connections(app)
    clickbuffer._take()


def test_public_pages_and_staff_sign_in_keep_working_while_redis_is_down(
    client, api, tenant, owner, on_private_redis
):
    program = program_create(tenant=tenant, spec=make_spec(), actor=None)
    codes = []
    for i in range(6):
        person = services.participant_upsert(tenant=tenant, external_id=f"u-{i}", name=f"P{i}")[0]
        codes.append(
            services.enrollment_create(tenant=tenant, program=program, participant=person)[1].code
        )
    # Redis up: a redirect's click goes through the buffer in Redis to the database.
    assert client.get(f"/r/{codes[0]}", HTTP_USER_AGENT=PHONE_UA).status_code == 302
    assert clickbuffer.flush() == 1
    clicks = Click.objects.for_tenant(tenant)

    on_private_redis.stop()
    # Redirects of codes no process has cached: each 302, each click kept.
    for code in codes:
        response = client.get(f"/r/{code}?s=wechat", HTTP_USER_AGENT=PHONE_UA)
        assert response.status_code == 302 and response["Location"] == f"/i/{code}"
    for path in (
        f"/i/{codes[1]}",
        f"/qr/{codes[1]}.png",
        f"/qr/{codes[1]}.svg",
        f"/qr/{codes[1]}/poster.png",
    ):
        assert client.get(path, HTTP_USER_AGENT=PHONE_UA).status_code == 200, path
    # Invite sign-ups: the leads and their signup events are stored.
    for i, phone in enumerate(("13900139001", "13900139002")):
        response = client.post(
            f"/i/{codes[2 + i]}", {"name": f"Lead {i}", "phone": phone, "consent": "on"}
        )
        assert response.status_code == 200 and b"Thank you" in response.content
    # The portal, entered through a link the tenant's backend asks for.
    link = api.post("/api/v1/portal-sessions", {"participant": "u-1"}, format="json")
    assert link.status_code == 201
    opened = client.get(link.json()["url"].split("8000", 1)[-1])
    assert opened.status_code == 302 and client.get("/portal/").status_code == 200
    # Staff sign-in and a staff page.
    response = client.post(
        "/accounts/login/", {"login": "owner@acme.test", "password": "pw-owner-12345"}
    )
    assert response.status_code == 302 and client.get("/app/").status_code == 200

    clickbuffer.ship()  # what the shipper thread has not sent yet: written directly
    assert wait_for(lambda: clicks.count() >= 7, seconds=10, interval=0.1)
    assert sorted(clicks.values_list("code", flat=True)) == sorted([codes[0], *codes])
    leads = Participant.objects.for_tenant(tenant).filter(is_lead=True)
    assert sorted(leads.values_list("phone", flat=True)) == ["+8613900139001", "+8613900139002"]
    assert Event.objects.for_tenant(tenant).filter(type="signup").count() == 2
    metrics = client.get("/metrics").content.decode()
    assert 'referral_platform_cache_degraded_total{op="get"}' in metrics

    # Redis back: clicks go through the buffer again.
    on_private_redis.start()
    time.sleep(resilient.RETRY_AFTER + 0.1)
    assert client.get(f"/r/{codes[5]}", HTTP_USER_AGENT=PHONE_UA).status_code == 302
    assert clickbuffer.flush() == 1 and clicks.count() == 8
