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
def test_failed_logins_lock_that_account_from_that_address_only_with_a_429(client, owner):
    url = "/accounts/login/"
    wrong = {"login": owner.email, "password": "wrong"}
    right = {"login": owner.email, "password": "pw-owner-12345"}
    stranger, home = {"REMOTE_ADDR": "198.51.100.7"}, {"REMOTE_ADDR": "203.0.113.9"}
    # Five wrong passwords are answered on the form; the sixth try is refused as such.
    assert [client.post(url, wrong, **stranger).status_code for _ in range(5)] == [200] * 5
    locked = client.post(url, wrong, **stranger)
    assert locked.status_code == 429 and locked["Retry-After"] == "300"
    assert "Slow down" in locked.content.decode()
    # Even the right password waits out the lock from that address...
    assert client.post(url, right, **stranger).status_code == 429
    # ...while the owner, elsewhere, signs in as usual.
    response = client.post(url, right, **home)
    assert response.status_code == 302 and response["Location"] == "/app/"


@pytest.mark.django_db
def test_past_the_login_rate_the_whole_form_answers_429(client, owner, settings):
    url = "/accounts/login/"
    wrong = {"login": owner.email, "password": "wrong"}
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "login": "3/m/ip"}
    statuses = [client.post(url, wrong).status_code for _ in range(4)]
    assert statuses[-1] == 429
    response = client.post(url, wrong)
    assert response.status_code == 429 and int(response["Retry-After"]) > 0
