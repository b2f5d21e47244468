"""The owner requires two-factor sign-in in the tenant settings and is sent, with a notice,
to confirm the password and set up an authenticator app before any other staff page."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser


def test_requiring_mfa_sends_staff_to_set_up_an_authenticator(
    live_server, page, tenant, owner, shot, staff_login
):
    staff_login(page, live_server, "owner@acme.test", "pw-owner-12345")
    page.goto(live_server.url + "/app/settings/")
    checkbox = page.locator("input[name=require_mfa]")
    assert not checkbox.is_checked()
    checkbox.check()
    shot(page, "settings-require-mfa")
    page.click("text=Save settings")
    # allauth asks for the password again before an authenticator is added.
    page.wait_for_url("**/accounts/reauthenticate/**")
    assert "Acme requires two-factor sign-in" in page.content()
    shot(page, "mfa-required-reauthenticate")
    page.fill("input[name=password]", "pw-owner-12345")
    page.click("form button[type=submit]")
    page.wait_for_url("**/accounts/2fa/totp/activate/")
    assert page.locator("input[name=code]").count() == 1
    shot(page, "mfa-setup")
    page.goto(live_server.url + "/app/programs/")
    assert page.url.endswith("/accounts/2fa/totp/activate/")
    assert page.console_problems == []
