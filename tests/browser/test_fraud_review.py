"""An ops user opens the review queue, inspects a flagged referral and rejects it with a note."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.browser


@pytest.fixture
def flagged(transactional_db, tenant):
    from fraud.tests.conftest import participant_make, referral_make
    from pipeline.flow import assessment_run
    from programs.models import Program, ProgramStatus, ProgramVersion

    program = Program.unscoped.create(
        tenant=tenant, slug="saas-b2b", name="SaaS B2B", status=ProgramStatus.ACTIVE, currency="CNY"
    )
    program.current_version = ProgramVersion.unscoped.create(
        tenant=tenant, program=program, number=1, spec={"stages": []}
    )
    program.save()
    ann = participant_make(tenant, external_id="ann-admin", email="ann@acme-widgets.com")
    bob = participant_make(tenant, external_id="bob-buyer", email="bob@acme-widgets.com")
    referral = referral_make(program, ann, bob, status="qualified")
    assessment_run(referral=referral, stage_key="signup")
    referral.refresh_from_db()
    assert referral.status == "review"
    return referral


def test_ops_rejects_a_flagged_referral_from_the_queue_with_a_note(
    live_server, page, ops, flagged, shot, staff_login
):
    from referral_platform.core.models import AuditEntry
    from tracking.models import Referral

    staff_login(page, live_server, "ops@acme.test", "pw-ops-12345")
    page.goto(live_server.url + "/app/review/")
    row = page.locator(f"[data-testid=case-row][data-referral='{flagged.pk}']")
    assert "ann-admin → bob-buyer" in row.inner_text()
    assert "Same email domain" in row.inner_text()
    shot(page, "fraud-queue")

    row.get_by_role("link", name=f"#{flagged.pk}").click()
    page.wait_for_url(re.compile(rf".*/app/review/{flagged.pk}/$"))
    assert (
        "Possibly the same company: both use the email domain acme-widgets.com."
        in page.locator("[data-testid=signals]").inner_text()
    )
    assert page.locator("[data-testid=referral-status]").inner_text() == "In review"
    shot(page, "fraud-detail")

    page.fill("#id_note", "Same company: both work at Acme Widgets.")
    page.locator("[data-testid=decide-form] button[value=reject]").click()
    page.wait_for_url(re.compile(r".*/app/review/$"))
    assert f"Referral #{flagged.pk} rejected" in page.locator(".alert").inner_text()
    assert page.locator(f"[data-testid=case-row][data-referral='{flagged.pk}']").count() == 0
    shot(page, "fraud-after-reject")

    assert Referral.objects.for_tenant(flagged.tenant).get(pk=flagged.pk).status == "rejected"
    entry = AuditEntry.objects.for_tenant(flagged.tenant).get(action="review.rejected")
    assert (entry.actor_label, entry.note) == (
        "user:ops@acme.test",
        "Same company: both work at Acme Widgets.",
    )

    page.goto(live_server.url + "/app/review/decisions/")
    assert (
        "Same company: both work at Acme Widgets."
        in page.locator("[data-testid=decision-log]").inner_text()
    )
    assert page.console_problems == []
