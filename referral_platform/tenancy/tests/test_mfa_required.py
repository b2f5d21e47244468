"""A tenant may require two-factor sign-in for its staff (allauth TOTP): a member without an
authenticator is sent to set one up before any staff page, and sign-in then asks for the
code. Tenants that do not require it are unaffected."""

import pytest
from allauth.mfa.totp.internal.auth import (
    TOTP,
    format_hotp_value,
    generate_totp_secret,
    hotp_value,
    yield_hotp_counters_from_time,
)

from referral_platform.tenancy.forms import TenantSettingsForm
from referral_platform.tenancy.models import Tenant

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
OWNER = {"login": "owner@acme.test", "password": "pw-owner-12345"}


def _require(tenant, on: bool = True):
    Tenant.objects.filter(pk=tenant.pk).update(require_mfa=on)


def test_without_the_setting_staff_pages_open_after_a_password(client, tenant, owner):
    assert client.post(LOGIN, OWNER)["Location"] == "/app/"
    assert client.get("/app/").status_code == 200


def test_a_member_without_an_authenticator_is_sent_to_set_one_up(client, tenant, owner):
    _require(tenant)
    assert client.post(LOGIN, OWNER)["Location"] == "/app/"
    for page in ("/app/", "/app/programs/", "/app/settings/webhooks/"):
        response = client.get(page)
        assert (
            response.status_code == 302 and response["Location"] == "/accounts/2fa/totp/activate/"
        )
    setup = client.get("/accounts/2fa/totp/activate/", follow=True)
    assert setup.status_code == 200
    assert "Acme requires two-factor sign-in" in setup.content.decode()


def test_with_an_authenticator_sign_in_asks_for_the_code_before_any_staff_page(
    client, tenant, owner
):
    _require(tenant)
    secret = generate_totp_secret()
    TOTP.activate(owner, secret)
    response = client.post(LOGIN, OWNER)
    assert response.status_code == 302 and response["Location"] == "/accounts/2fa/authenticate/"
    assert client.get("/app/")["Location"].startswith("/accounts/login/")  # not signed in yet
    assert client.post("/accounts/2fa/authenticate/", {"code": "000000"}).status_code == 200
    code = format_hotp_value(hotp_value(secret, next(yield_hotp_counters_from_time())))
    response = client.post("/accounts/2fa/authenticate/", {"code": code})
    assert response.status_code == 302 and response["Location"] == "/app/"
    assert client.get("/app/").status_code == 200


def test_another_tenant_s_requirement_does_not_apply_here(client, tenant, other_tenant, owner):
    _require(other_tenant)
    client.post(LOGIN, OWNER)
    assert client.get("/app/").status_code == 200


def test_the_owner_turns_the_requirement_on_in_the_settings(client, tenant, owner):
    client.post(LOGIN, OWNER)
    page = client.get("/app/settings/").content.decode()
    assert 'name="require_mfa"' in page
    form = TenantSettingsForm(instance=tenant)
    data = {name: form[name].value() or "" for name in form.fields if name != "logo"}
    data.update(require_mfa="on", holidays="", workdays="", portal_frame_origins="")
    response = client.post("/app/settings/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    tenant.refresh_from_db()
    assert tenant.require_mfa is True
    assert client.get("/app/")["Location"] == "/accounts/2fa/totp/activate/"
