"""A prospect opens a referral link on a phone, in Chinese, and signs up; staff see it."""

import re

import pytest

from tests.browser.conftest import MOBILE

pytestmark = pytest.mark.browser


@pytest.fixture
def chinese_phone(browser):
    context = browser.new_context(
        viewport=MOBILE,
        locale="zh-CN",
        extra_http_headers={"Accept-Language": "zh-CN,zh;q=0.9"},
        user_agent="Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Mobile Safari/537.36",
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


def test_a_referral_link_on_a_phone_leads_to_a_chinese_invite_page_and_a_referral_staff_can_see(
    live_server, chinese_phone, page, staff_login, shot, transactional_db
):
    from programs.services import program_create
    from referral_platform.tenancy.services import tenant_create
    from tracking import services
    from tracking.models import Referral
    from tracking.tests.conftest import make_spec

    tenant = tenant_create(
        name="Acme",
        slug="acme",
        owner_email="owner@acme.test",
        currency="CNY",
        timezone="Asia/Shanghai",
        owner_password="pw-owner-12345",
    )
    program = program_create(tenant=tenant, spec=make_spec(), actor=None)
    referrer, _ = services.participant_upsert(tenant=tenant, external_id="u-li", name="李雷")
    code = services.enrollment_create(tenant=tenant, program=program, participant=referrer)[1].code

    chinese_phone.goto(f"{live_server.url}/r/{code}?s=wechat")
    assert chinese_phone.url.endswith(f"/i/{code}")
    assert chinese_phone.locator("html").get_attribute("lang") == "zh-hans"
    assert "李雷" in chinese_phone.locator("[data-testid=invite-title]").inner_text()
    assert chinese_phone.locator("#id_code").input_value() == code
    width = chinese_phone.evaluate("document.documentElement.scrollWidth")
    assert width <= MOBILE["width"]  # nothing overflows sideways on a small phone
    shot(chinese_phone, "tracking-invite-zh-mobile")

    chinese_phone.fill("#id_name", "韩梅梅")
    chinese_phone.fill("#id_phone", "13900139000")
    chinese_phone.check("input[name=consent]")
    chinese_phone.click("form[data-testid=lead-form] button[type=submit]")
    chinese_phone.wait_for_selector("[data-testid=thanks]")

    referral = Referral.objects.for_tenant(tenant).get()
    assert (referral.referrer.external_id, referral.source, referral.referee.name) == (
        "u-li",
        "link",
        "韩梅梅",
    )

    staff_login(page, live_server, "owner@acme.test", "pw-owner-12345")
    page.goto(f"{live_server.url}/app/referrals/")
    row = page.locator("[data-testid=referral-row]")
    assert row.count() == 1
    assert re.search(r"李雷.*韩梅梅", row.inner_text(), re.S)
    row.locator("a").first.click()
    page.wait_for_selector("[data-testid=timeline]")
    assert code in page.locator("[data-testid=evidence]").inner_text()
    assert page.console_problems == []
