"""A marketer builds the e-commerce program from its template, changes the referee coupon,
simulates a referral, and activates the program."""

from __future__ import annotations

import pytest

from programs.models import Program
from referral_platform.tenancy.models import Role
from referral_platform.tenancy.services import membership_add, tenant_create, user_get_or_create

pytestmark = pytest.mark.browser


@pytest.fixture
def shop(transactional_db):
    tenant = tenant_create(
        name="Shop", slug="shop", owner_email="owner@shop.test", currency="CNY",
        timezone="Asia/Shanghai", owner_password="pw-owner-12345",
    )  # fmt: skip
    user = user_get_or_create(email="marketer@shop.test", password="pw-marketer-12345")
    membership_add(tenant=tenant, user=user, role=Role.MARKETER)
    return tenant


def test_marketer_creates_the_ecommerce_program_edits_the_coupon_simulates_and_activates(
    live_server, page, shop, shot, staff_login
):
    staff_login(page, live_server, "marketer@shop.test", "pw-marketer-12345")
    page.goto(live_server.url + "/app/programs/")
    page.click("text=New program")
    page.check("input[name=template][value=green-home]")
    page.fill("input[name=name]", "Green miles")
    page.fill("input[name=slug]", "green-home")
    page.click("[data-testid=new-program-form] button[type=submit]")
    page.wait_for_url("**/app/programs/green-home/edit/general/")
    page.click("[data-testid=program-nav] >> text=Overview")
    assert page.locator("[data-testid=program-status]").inner_text() == "Draft"
    assert (
        "Their friend earns ¥20.00 coupon, min. spend ¥99.00, valid 7 days (“¥20 off orders ≥ ¥99”)"
        " when the friend signs up." in page.locator("[data-testid=program-summary]").inner_text()
    )

    # The referee's sign-up coupon: ¥20 → ¥30, checked inline before saving.
    page.click("[data-testid=program-nav] >> text=Rules")
    page.click("[data-testid=section-list] >> text=Stages and rewards")
    amount = page.locator('[name="stages[0].rewards[0].amount"]')
    amount.fill("-3")
    page.locator("[data-testid=problems]").get_by_text("stages[0].rewards[0].amount").wait_for()
    amount.fill("30")
    page.locator("[data-testid=problems]").get_by_text("No problems.").wait_for()
    shot(page, "programs-rewards-section")
    page.click("[data-testid=save-section]")
    page.wait_for_url("**/app/programs/green-home/edit/tiers/")
    assert "Saved as version 2." in page.content()

    # One friend signs up and keeps a ¥120 first order past the 7-day window.
    page.click("[data-testid=program-nav] >> text=Simulator")
    page.fill("#script", "anna 0 signup\nanna 1 purchase 120")
    page.fill("#start", "2026-01-05")
    page.click("[data-testid=run-simulation]")
    page.locator("[data-testid=total-referee]").wait_for()
    assert page.locator("[data-testid=total-referee]").inner_text() == "¥30.00"
    assert page.locator("[data-testid=total-referrer]").inner_text() == "¥25.00 + 300 points"
    assert page.locator("[data-testid=sim-row]").count() == 5
    shot(page, "programs-simulator")

    page.click("[data-testid=program-nav] >> text=Overview")
    page.click("[data-testid=status-active]")
    checklist = page.locator("[data-testid=launch-checklist]")
    assert "No budget: rewards are never stopped by cost." in checklist.inner_text()
    shot(page, "programs-launch-checklist")
    page.check("[data-testid=confirm-checkbox]")
    page.click("[data-testid=confirm-submit]")
    page.wait_for_url("**/app/programs/green-home/")
    assert page.locator("[data-testid=program-status]").inner_text() == "Active"
    program = Program.objects.for_tenant(shop).get(slug="green-home")
    assert program.status == "active"
    assert program.spec["stages"][0]["rewards"][0]["amount"] == 3000
    assert program.current_version.number == 3
    assert page.console_problems == []


def test_on_a_phone_every_builder_page_fits_the_screen_and_shows_its_form_first(
    live_server, mobile_page, shop, staff_login
):
    from programs.specforms import SECTIONS

    page = mobile_page
    staff_login(page, live_server, "owner@shop.test", "pw-owner-12345")
    page.goto(live_server.url + "/app/programs/new/")
    page.check("input[name=template][value=green-home]")
    page.fill("input[name=name]", "Green miles")
    page.fill("input[name=slug]", "green-home")
    page.click("[data-testid=new-program-form] button[type=submit]")
    page.wait_for_url("**/app/programs/green-home/edit/general/")
    base = live_server.url + "/app/programs/green-home/"
    pages = ["", "simulate/", "estimate/", "versions/"]
    pages += [f"edit/{key}/" for key, _label, _keys in SECTIONS] + ["edit/advanced/"]
    too_wide = {}
    for path in pages:
        page.goto(base + path)
        width = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        if width > 0:
            too_wide[path] = width
        if path.startswith("edit/"):
            # The section's form, then the list of sections, not 18 links to scroll past.
            form = page.locator("[data-testid=section-form]").bounding_box()
            sections = page.locator("[data-testid=section-list]").bounding_box()
            assert form["y"] < sections["y"], path
    assert too_wide == {}
