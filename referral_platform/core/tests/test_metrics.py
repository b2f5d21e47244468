import pytest

from referral_platform.core import metrics


def test_metrics_answer_in_prometheus_text(client, db):
    response = client.get("/metrics")
    assert response.status_code == 200
    assert "referral_platform_up 1" in response.content.decode()


def test_queue_depth_is_reported_when_redis_is_configured(settings, monkeypatch):
    import redis

    class FakeRedis:
        def llen(self, name):
            return {"celery": 7}.get(name, 0)

    settings.REDIS_URL = "redis://example.invalid:6379/0"
    monkeypatch.setattr(redis.Redis, "from_url", classmethod(lambda cls, *a, **k: FakeRedis()))
    text = metrics.render_metrics()
    assert 'referral_platform_celery_queue_depth{queue="celery"} 7' in text
    assert "referral_platform_broker_up 1" in text


def test_no_queue_metrics_without_redis(settings):
    settings.REDIS_URL = ""
    assert "celery_queue_depth" not in metrics.render_metrics()


@pytest.mark.django_db
def test_healthz(client):
    assert client.get("/healthz").json()["status"] == "ok"
