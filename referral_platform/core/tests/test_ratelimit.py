import pytest
from django.http import HttpResponse
from django.test import RequestFactory

from referral_platform.core.ratelimit import limit_per_ip


@limit_per_ip(rate="2/m", group="test_form", method="POST")
def public_form(request):
    return HttpResponse("ok")


def test_public_form_answers_429_with_retry_after_past_the_rate():
    factory = RequestFactory()
    for _ in range(2):
        assert public_form(factory.post("/f", REMOTE_ADDR="203.0.113.9")).status_code == 200
    limited = public_form(factory.post("/f", REMOTE_ADDR="203.0.113.9"))
    assert limited.status_code == 429
    assert 1 <= int(limited["Retry-After"]) <= 60
    assert "Slow down" in limited.content.decode()
    # Another address, and reads, are not limited.
    assert public_form(factory.post("/f", REMOTE_ADDR="203.0.113.10")).status_code == 200
    assert public_form(factory.get("/f", REMOTE_ADDR="203.0.113.9")).status_code == 200


@pytest.mark.django_db
def test_failed_logins_are_refused_then_answered_429(client, owner, settings):
    url = "/accounts/login/"
    wrong = {"login": owner.email, "password": "wrong"}
    # Per account: after five failures even tries from elsewhere are refused.
    pages = [client.post(url, wrong).content.decode() for _ in range(6)]
    assert "Too many failed login attempts" in pages[-1]
    # Per IP: past the login rate the whole form answers 429 with Retry-After.
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "login": "3/m/ip"}
    statuses = [client.post(url, wrong).status_code for _ in range(4)]
    assert statuses[-1] == 429
    response = client.post(url, wrong)
    assert response.status_code == 429 and int(response["Retry-After"]) > 0
