"""Staff pages of the tenancy app: roles, settings, API keys, team, sandbox, audit log."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.urls import reverse

from referral_platform.core.models import AuditEntry
from referral_platform.tenancy.models import ApiKey, Invitation, Membership, Role, Tenant
from referral_platform.tenancy.services import api_key_authenticate, api_key_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def as_user(client):
    def login(user):
        client.force_login(user)
        return client

    return login


@pytest.mark.parametrize(
    "name", ["tenancy:settings", "tenancy:team", "tenancy:api_keys", "tenancy:audit"]
)
@pytest.mark.parametrize("role", ["marketer", "ops", "analyst"])
def test_owner_pages_are_forbidden_to_lower_roles(request, as_user, name, role):
    client = as_user(request.getfixturevalue(role))
    assert client.get(reverse(name)).status_code == 403
    assert client.post(reverse(name), {"name": "x"}).status_code == 403


def test_analyst_cannot_edit_settings(as_user, analyst, tenant):
    response = as_user(analyst).post(reverse("tenancy:settings"), {"name": "Hijacked"})
    assert response.status_code == 403
    tenant.refresh_from_db()
    assert tenant.name == "Acme"


def test_ops_cannot_create_or_revoke_keys(as_user, ops, tenant):
    key, _ = api_key_create(tenant=tenant, name="backend")
    client = as_user(ops)
    assert client.post(reverse("tenancy:api_keys"), {"name": "mine"}).status_code == 403
    assert client.post(reverse("tenancy:api_key_revoke", args=[key.pk])).status_code == 403
    key.refresh_from_db()
    assert key.revoked_at is None
    assert ApiKey.objects.for_tenant(tenant).count() == 1


def test_anonymous_is_sent_to_login(client):
    response = client.get(reverse("tenancy:api_keys"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_owner_creates_a_key_that_is_shown_once_and_works(as_user, owner, tenant):
    client = as_user(owner)
    response = client.post(reverse("tenancy:api_keys"), {"name": "backend"})
    assert response.status_code == 200
    full = re.search(r'id="new-api-key" value="([^"]+)"', response.content.decode()).group(1)
    key = ApiKey.objects.for_tenant(tenant).get(name="backend")
    assert full.startswith("rk_live_") and full.startswith(key.prefix + ".")
    assert key.secret_hash != full and api_key_authenticate(full) == key
    assert response["Cache-Control"] == "no-store"
    listing = client.get(reverse("tenancy:api_keys")).content.decode()
    assert key.prefix in listing and full not in listing
    entry = AuditEntry.objects.for_tenant(tenant).get(action="api_key.created", target_id=key.pk)
    assert entry.actor == owner and entry.ip_address == "127.0.0.1"


def test_owner_revokes_a_key(as_user, owner, tenant):
    key, full = api_key_create(tenant=tenant, name="old")
    response = as_user(owner).post(reverse("tenancy:api_key_revoke", args=[key.pk]))
    assert response.status_code == 302
    assert api_key_authenticate(full) is None
    assert AuditEntry.objects.for_tenant(tenant).filter(action="api_key.revoked").exists()


def test_another_tenants_key_is_a_404(as_user, owner, other_tenant):
    theirs, full = api_key_create(tenant=other_tenant, name="theirs")
    response = as_user(owner).post(reverse("tenancy:api_key_revoke", args=[theirs.pk]))
    assert response.status_code == 404
    assert api_key_authenticate(full) == theirs


def test_owner_edits_settings_and_calendar(as_user, owner, tenant):
    data = {
        "name": "Acme China",
        "currency": "cny",
        "timezone": "Asia/Shanghai",
        "default_locale": "zh-hans",
        "holidays": "2026-10-01\n2026-10-02, 2026-10-01",
        "workdays": "2026-09-27",
        "brand_colour": "#ff6600",
        "portal_frame_origins": "https://shop.example.com/\nhttp://localhost:3000",
        "review_sla_hours": "24",
    }
    response = as_user(owner).post(reverse("tenancy:settings"), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    tenant.refresh_from_db()
    assert tenant.name == "Acme China" and tenant.currency == "CNY"
    assert tenant.holidays == ["2026-10-01", "2026-10-02"]
    assert tenant.workdays == ["2026-09-27"]
    assert tenant.portal_frame_origins == ["https://shop.example.com", "http://localhost:3000"]
    assert tenant.review_sla_hours == 24 and tenant.brand_colour == "#ff6600"
    entry = AuditEntry.objects.for_tenant(tenant).get(action="tenant.settings_changed")
    assert "name" in entry.data["changed"]


def test_bad_settings_show_field_errors_and_change_nothing(as_user, owner, tenant):
    data = {
        "name": "Acme",
        "currency": "yuan",
        "timezone": "Mars/Base",
        "default_locale": "en",
        "holidays": "tomorrow",
        "brand_colour": "red",
        "review_sla_hours": "48",
    }
    response = as_user(owner).post(reverse("tenancy:settings"), data)
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert {"currency", "timezone", "holidays", "brand_colour"} <= set(errors)
    tenant.refresh_from_db()
    assert tenant.currency == "CNY"


def test_invitation_creates_the_account_and_membership(
    client, as_user, owner, tenant, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        as_user(owner).post(reverse("tenancy:team"), {"email": "New@Acme.test", "role": "marketer"})
    invitation = Invitation.objects.for_tenant(tenant).get()
    assert invitation.email == "new@acme.test"
    assert len(mail.outbox) == 1 and invitation.token in mail.outbox[0].body
    client.logout()
    url = reverse("invitation_accept", args=[invitation.token])
    assert b"Join Acme" in client.get(url).content
    response = client.post(url, {"password1": "a-Long-pass-9876", "password2": "a-Long-pass-9876"})
    assert response.status_code == 302
    membership = Membership.objects.get(tenant=tenant, user__email="new@acme.test")
    assert membership.role == Role.MARKETER
    assert client.get(reverse("tenancy:home")).status_code == 200
    # The link works once.
    client.logout()
    assert client.get(url).status_code == 404


def test_invitation_for_an_existing_account_needs_a_sign_in(client, as_user, owner, outsider):
    as_user(owner).post(reverse("tenancy:team"), {"email": outsider.email, "role": "ops"})
    invitation = Invitation.unscoped.get(email=outsider.email)
    client.logout()
    url = reverse("invitation_accept", args=[invitation.token])
    response = client.post(url, {"password1": "x-Long-pass-9876", "password2": "x-Long-pass-9876"})
    assert response.status_code == 302 and "login" in response["Location"]
    assert not Membership.objects.filter(user=outsider, tenant=invitation.tenant).exists()
    client.force_login(outsider)
    assert client.post(url).status_code == 302
    assert Membership.objects.get(user=outsider, tenant=invitation.tenant).role == Role.OPS


def test_a_tampered_or_revoked_invitation_is_refused(client, as_user, owner, tenant):
    as_user(owner).post(reverse("tenancy:team"), {"email": "x@acme.test", "role": "owner"})
    invitation = Invitation.objects.for_tenant(tenant).get()
    assert (
        client.get(reverse("invitation_accept", args=[invitation.token + "x"])).status_code == 404
    )
    client.post(reverse("tenancy:invitation_revoke", args=[invitation.pk]))
    client.logout()
    assert client.get(reverse("invitation_accept", args=[invitation.token])).status_code == 404


def test_owner_changes_roles_but_never_removes_the_last_owner(as_user, owner, marketer, tenant):
    client = as_user(owner)
    member = Membership.objects.get(tenant=tenant, user=marketer)
    client.post(reverse("tenancy:member_role", args=[member.pk]), {"role": "analyst"})
    member.refresh_from_db()
    assert member.role == Role.ANALYST
    mine = Membership.objects.get(tenant=tenant, user=owner)
    client.post(reverse("tenancy:member_role", args=[mine.pk]), {"role": "analyst"})
    client.post(reverse("tenancy:member_remove", args=[mine.pk]))
    mine.refresh_from_db()
    assert mine.role == Role.OWNER
    client.post(reverse("tenancy:member_remove", args=[member.pk]))
    assert not Membership.objects.filter(pk=member.pk).exists()
    actions = set(AuditEntry.objects.for_tenant(tenant).values_list("action", flat=True))
    assert {"membership.role_changed", "membership.removed"} <= actions


def test_the_last_owner_refusal_reads_in_chinese(as_user, owner, tenant):
    from django.utils import translation

    client = as_user(owner)
    mine = Membership.objects.get(tenant=tenant, user=owner)
    # The override puts the thread's language back afterwards; the header picks the page's.
    with translation.override("zh-hans"):
        page = client.post(
            reverse("tenancy:member_remove", args=[mine.pk]),
            follow=True,
            HTTP_ACCEPT_LANGUAGE="zh-hans",
        ).content.decode()
    assert "工作区至少需要一位所有者。" in page


def test_sandbox_opens_in_one_click_with_the_same_team(as_user, owner, ops, tenant):
    client = as_user(owner)
    response = client.post(reverse("tenancy:sandbox_open"))
    assert response.status_code == 302
    sandbox = Tenant.objects.get(live_tenant=tenant)
    assert sandbox.is_sandbox and sandbox.currency == tenant.currency
    roles = dict(Membership.objects.filter(tenant=sandbox).values_list("user__email", "role"))
    assert roles == {"owner@acme.test": "owner", "ops@acme.test": "ops"}
    page = client.get(reverse("tenancy:home")).content.decode()
    assert 'data-testid="sandbox-banner"' in page
    created = client.post(reverse("tenancy:api_keys"), {"name": "t"}).content.decode()
    assert re.search(r'value="rk_test_[0-9a-f]+\.', created)
    assert ApiKey.objects.for_tenant(sandbox).get().is_test
    assert not ApiKey.objects.for_tenant(tenant).exists()
    # Opening again goes back to the live tenant; a second sandbox is never made.
    client.post(reverse("tenancy:sandbox_open"))
    client.post(reverse("tenancy:sandbox_open"))
    assert Tenant.objects.filter(live_tenant=tenant).count() == 1


def test_switcher_only_switches_to_own_tenants(as_user, owner, tenant, other_tenant):
    client = as_user(owner)
    assert client.post(reverse("tenancy:switch", args=[other_tenant.pk])).status_code == 404
    assert client.get(reverse("tenancy:home")).context["current_tenant"] == tenant


def test_audit_log_lists_and_exports_only_this_tenant(as_user, owner, tenant, other_tenant):
    api_key_create(tenant=tenant, name="ours-key")
    api_key_create(tenant=other_tenant, name="theirs-key")
    client = as_user(owner)
    page = client.get(reverse("tenancy:audit")).content.decode()
    assert "api_key.created" in page and "theirs-key" not in page
    response = client.get(reverse("tenancy:audit_export"))
    body = b"".join(response.streaming_content).decode()
    assert response["Content-Type"].startswith("text/csv")
    assert body.splitlines()[0].startswith("created_at,actor,action")
    assert "ours-key" in body and "theirs-key" not in body


def test_staff_pages_render_in_chinese(as_user, owner):
    client = as_user(owner)
    client.post(reverse("set_language"), {"language": "zh-hans", "next": "/app/"})
    page = client.get(reverse("tenancy:api_keys")).content.decode()
    assert "API 密钥" in page and 'lang="zh-hans"' in page


def test_settings_page_offers_the_widget_snippet_in_the_tenant_colour(
    as_user, owner, tenant, settings
):
    settings.PUBLIC_BASE_URL = "https://refer.example.com"
    tenant.brand_colour = "#0a7d4f"
    tenant.save(update_fields=["brand_colour"])
    page = as_user(owner).get(reverse("tenancy:settings")).content.decode()
    snippet = page[page.index('id="widget-snippet-code"') :]
    snippet = snippet[: snippet.index("</code>")]
    assert 'src="https://refer.example.com/static/portal/widget.js"' in snippet
    assert 'data-colour="#0a7d4f"' in snippet
    assert "data-session-url=" in snippet
    assert 'data-copy="#widget-snippet-code"' in page


def test_the_settings_page_warns_about_an_unreadable_brand_colour(as_user, owner, tenant):
    page = as_user(owner).get(reverse("tenancy:settings")).content.decode()
    assert 'data-testid="brand-warning"' not in page
    tenant.brand_colour = "#2fb344"
    tenant.save()
    page = as_user(owner).get(reverse("tenancy:settings")).content.decode()
    assert page.count('data-testid="brand-warning"') == 2


def test_audit_log_export_neutralises_cells_and_reads_money_in_major_units(as_user, owner, tenant):
    import csv
    import io

    from referral_platform.core.audit import audit_log

    audit_log(
        tenant=tenant,
        actor=None,
        action="rewards.settings_updated",
        data={"second_approval_above_minor": 50000},
        note='=HYPERLINK("http://evil.test")',
        actor_label="@attacker",
    )
    response = as_user(owner).get(reverse("tenancy:audit_export"))
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    row = next(r for r in rows if r[2] == "rewards.settings_updated")
    assert row[1] == "'@attacker"
    assert row[5] == '{"second_approval_above": "500.00"}'
    assert row[6] == '\'=HYPERLINK("http://evil.test")'
