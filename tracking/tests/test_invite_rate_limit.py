"""The invite page's sign-up form is limited per client IP; the visitor loses nothing."""

import time

import time_machine
from django.core.cache import cache

from tracking.models import Event, Participant


def _sign_up(client, code, ip, **fields):
    data = {"name": "Dan", "phone": "13900139000", "email": "dan@mail.test", "consent": "on"}
    return client.post(f"/i/{code}", {**data, **fields}, REMOTE_ADDR=ip)


def test_past_the_rate_the_form_comes_back_429_as_typed_and_nothing_is_stored(
    client, tenant, alice_code, settings
):
    cache.clear()
    settings.INVITE_RATE_LIMIT = "2/m"
    assert _sign_up(client, alice_code.code, "203.0.113.9").status_code == 200
    # A refused submission (no consent) counts too: the limit is on attempts.
    assert _sign_up(client, alice_code.code, "203.0.113.9", consent="").status_code == 422
    leads_before = Participant.objects.for_tenant(tenant).filter(is_lead=True).count()
    events_before = Event.objects.for_tenant(tenant).count()

    response = _sign_up(client, alice_code.code, "203.0.113.9", name="Eve", phone="13700137000")

    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 60
    page = response.content.decode()
    assert "Too many attempts from your network. Please try again in" in page
    assert 'data-testid="rate-limited"' in page
    assert 'name="name" autocomplete="name" value="Eve"' in page
    assert 'value="13700137000"' in page and 'value="dan@mail.test"' in page
    assert 'name="consent" checked' in page
    assert (leads_before, events_before) == (1, 1)
    assert Participant.objects.for_tenant(tenant).filter(is_lead=True).count() == 1
    assert Event.objects.for_tenant(tenant).count() == 1


def test_the_limit_is_per_ip_and_leaves_the_page_itself_readable(
    client, tenant, alice_code, settings
):
    cache.clear()
    settings.INVITE_RATE_LIMIT = "1/m"
    assert _sign_up(client, alice_code.code, "203.0.113.9").status_code == 200
    assert _sign_up(client, alice_code.code, "203.0.113.9").status_code == 429
    page = client.get(f"/i/{alice_code.code}", REMOTE_ADDR="203.0.113.9")
    assert page.status_code == 200 and b'data-testid="rate-limited"' not in page.content
    other = _sign_up(client, alice_code.code, "203.0.113.10", phone="13600136000")
    assert other.status_code == 200 and b"Thank you" in other.content
    assert Participant.objects.for_tenant(tenant).filter(is_lead=True).count() == 2


def test_a_forged_forwarded_header_does_not_escape_the_limit(client, tenant, alice_code, settings):
    cache.clear()
    settings.INVITE_RATE_LIMIT = "1/m"
    settings.IPWARE_TRUSTED_PROXY_COUNT = 0
    # Both posts at one instant, so inside one window of the limit.
    with time_machine.travel(time.time(), tick=False):
        assert _sign_up(client, alice_code.code, "203.0.113.9").status_code == 200
        forged = client.post(
            f"/i/{alice_code.code}",
            {"name": "Dan", "phone": "13500135000", "consent": "on"},
            REMOTE_ADDR="203.0.113.9",
            HTTP_X_FORWARDED_FOR="198.51.100.77",
        )
    assert forged.status_code == 429
