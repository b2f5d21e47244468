"""The `tracking.flush_clicks` periodic job, with the click buffer off (default) and on."""

import uuid

import pytest
from django.core.cache import cache

from referral_platform.core import periodic
from tracking import clickbuffer, services
from tracking.models import Click

PHONE_UA = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148"


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    services._local.clear()


def _flush_job():
    return dict(periodic.jobs())["tracking.flush_clicks"]


def test_the_buffer_is_off_by_default_so_the_redirect_writes_its_click_and_the_job_has_nothing(
    client, tenant, alice_code, settings
):
    assert settings.TRACKING_CLICK_BUFFER_URL == ""
    assert client.get(f"/r/{alice_code.code}?s=qr", HTTP_USER_AGENT=PHONE_UA).status_code == 302
    assert Click.objects.for_tenant(tenant).count() == 1
    assert _flush_job()() == 0
    assert Click.objects.for_tenant(tenant).count() == 1


def test_with_the_buffer_on_the_job_writes_the_buffered_clicks_once(
    client, tenant, alice_code, settings, redis_url, monkeypatch
):
    import redis

    settings.TRACKING_CLICK_BUFFER_URL = redis_url
    # A key of this test's own: other test runs may share the Redis database.
    monkeypatch.setattr(clickbuffer, "KEY", f"tracking:clicks:test:{uuid.uuid4().hex}")
    queue = redis.Redis.from_url(redis_url)
    for source in ("qr", "wechat"):
        response = client.get(f"/r/{alice_code.code}?s={source}", HTTP_USER_AGENT=PHONE_UA)
        assert response.status_code == 302
    assert Click.objects.for_tenant(tenant).count() == 0

    assert _flush_job()() == 2

    clicks = Click.objects.for_tenant(tenant).order_by("source")
    assert [(c.code, c.source, c.ua_class) for c in clicks] == [
        (alice_code.code, "qr", "mobile"),
        (alice_code.code, "wechat", "mobile"),
    ]
    assert queue.llen(clickbuffer.KEY) == 0
    assert _flush_job()() == 0
    assert Click.objects.for_tenant(tenant).count() == 2
