"""A marketer builds plan A from a blank program with the forms alone — clicks, choices and
typing, section by section — and the saved spec is the plan A template's; plan C's ladder,
charity and team rules likewise."""

from __future__ import annotations

import pytest

from programs.models import Program
from programs.templates_data import ARCHETYPES
from tests.browser import test_programs_builder
from tests.browser.builder_driver import Builder, normalized

shop = test_programs_builder.shop  # the same tenant and marketer fixture

pytestmark = pytest.mark.browser
YEAR = 2026


def _new_blank(page, live_server, slug: str, name: str) -> None:
    page.goto(live_server.url + "/app/programs/new/")
    page.check("input[name=template][value=blank]")
    page.fill("input[name=name]", name)
    page.fill("input[name=slug]", slug)
    page.click("[data-testid=new-program-form] button[type=submit]")
    page.wait_for_url(f"**/app/programs/{slug}/edit/general/")
    assert "Rules" in page.locator("[data-testid=new-program-steps]").inner_text()


def test_plan_a_built_from_blank_with_the_forms_alone_is_the_template(
    live_server, page, shop, shot, staff_login
):
    staff_login(page, live_server, "marketer@shop.test", "pw-marketer-12345")
    _new_blank(page, live_server, "teams", "Refer a team")
    target = ARCHETYPES["saas-b2b"](year=YEAR)
    builder = Builder(page, live_server.url, "teams")
    builder.build(target)
    page.goto(live_server.url + "/app/programs/teams/edit/stages/")
    shot(page, "programs-builder-stages")
    saved = Program.objects.for_tenant(shop).get(slug="teams").spec
    assert normalized(saved) == normalized(target)
    # Step 3, the review: the summary in plain words, amounts in yuan.
    page.click("[data-testid=step-review]")
    summary = page.locator("[data-testid=program-summary]").inner_text()
    assert "Your customer earns ¥50.00 cash (“Qualified lead”)" in summary
    assert page.console_problems == []


def test_plan_c_ladder_charity_and_team_rules_built_with_the_forms(
    live_server, page, shop, staff_login
):
    staff_login(page, live_server, "marketer@shop.test", "pw-marketer-12345")
    _new_blank(page, live_server, "study", "Study together")
    target = ARCHETYPES["study-together"](year=YEAR)
    builder = Builder(page, live_server.url, "study")
    builder.build(target, sections=["general", "stages", "tiers", "boosts", "team", "charity"])
    saved = Program.objects.for_tenant(shop).get(slug="study").spec
    keys = ["stages", "tiers", "boosts", "team", "charity"]
    assert normalized(saved, keys) == normalized(target, keys)
    assert page.console_problems == []
