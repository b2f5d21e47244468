from datetime import timedelta

import time_machine
from django.test import Client

from referral_platform.core.periodic import run_all
from rewards.models import LedgerEntry, Reward

from .conftest import T0, portal_client, shop_with_charity


def test_a_reward_can_be_donated_instead_after_a_confirmation(tenant, api):
    shop_with_charity(tenant, api)
    reward = Reward.objects.for_tenant(tenant).get(
        participant__external_id="alice", reason="stage:referrer_choice"
    )
    with time_machine.travel(T0 + timedelta(days=1), tick=False):
        client = portal_client(api, "alice")
        home = client.get("/portal/").content.decode()
        assert f'href="/portal/rewards/{reward.pk}/donate/"' in home
        confirm = client.get(f"/portal/rewards/{reward.pk}/donate/")
        assert (
            "<strong>¥25 off on orders of ¥129 or more</strong> goes to the program's charity"
            in confirm.content.decode()
        )
        reward.refresh_from_db()
        assert reward.kind == "coupon"
        done = client.post(f"/portal/rewards/{reward.pk}/donate/", {"confirm": "yes"}, follow=True)
    assert "Thank you: ¥25 off on orders of ¥129 or more goes to charity." in done.content.decode()
    reward.refresh_from_db()
    assert (reward.kind, reward.amount_minor, reward.status) == ("donation", 2500, "pending")
    assert not LedgerEntry.objects.for_tenant(tenant).filter(reward=reward).exists()
    # While it waits for its hold it is on its way, beside the program's own ¥5 matched per
    # success; once made, the ledger's charity total counts both.
    with time_machine.travel(T0 + timedelta(days=1, minutes=1), tick=False):
        page = client.get("/portal/").content.decode()
    assert 'data-testid="charity">¥0<' in page
    assert 'data-testid="charity-pending">¥30<' in page
    with time_machine.travel(T0 + timedelta(days=60), tick=False):
        run_all()
        page = portal_client(api, "alice").get("/portal/").content.decode()
    assert set(
        Reward.objects.for_tenant(tenant).filter(kind="donation").values_list("status", flat=True)
    ) == {"fulfilled"}
    assert 'data-testid="charity">¥30<' in page
    assert "charity-pending" not in page


def test_without_a_charity_in_the_program_there_is_nothing_to_donate_to(api, busy_shop, tenant):
    reward = Reward.objects.for_tenant(tenant).get(
        participant__external_id="alice", reason="stage:referrer_choice", status="pending"
    )
    client = portal_client(api, "alice")
    assert "/donate/" not in client.get("/portal/").content.decode()
    client.post(f"/portal/rewards/{reward.pk}/donate/", {"confirm": "yes"})
    reward.refresh_from_db()
    assert reward.kind == "coupon"


def test_staff_get_the_widget_snippet_and_strangers_get_the_login_page(tenant, owner, analyst):
    anonymous = Client().get("/portal/widget-snippet/")
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/accounts/login/")
    client = Client()
    client.force_login(analyst)
    page = client.get("/portal/widget-snippet/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "http://127.0.0.1:8000/static/portal/widget.js" in html
    assert "data-session-url=&quot;{{ portal_session_url }}&quot;" in html or (
        'data-session-url="{{ portal_session_url }}"' in html
    )
    assert 'data-colour="#1f6feb"' in html
    assert 'data-close-label="Close"' in html and 'data-unavailable-label="unavailable"' in html
    # The button's words follow the workspace's language: its customers read them.
    tenant.default_locale = "zh-hans"
    tenant.save(update_fields=["default_locale"])
    html = client.get("/portal/widget-snippet/").content.decode()
    assert 'data-close-label="关闭"' in html and 'data-unavailable-label="暂不可用"' in html


def test_the_widget_script_is_small_and_served(client):
    response = client.get("/static/portal/widget.js")
    body = b"".join(response.streaming_content) if response.streaming else response.content
    assert response.status_code == 200
    assert len(body) < 8_000
    assert b"attachShadow" in body


def test_the_openapi_schema_describes_portal_sessions(api):
    schema = api.get("/api/v1/schema/", HTTP_ACCEPT="application/json")
    assert schema.status_code == 200
    text = schema.content.decode()
    assert "/api/v1/portal-sessions" in text
    assert "return_url" in text and "expires_at" in text
