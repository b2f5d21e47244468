"""Staff find a participant by external id, email or code, see both sides of their
referrals, their rewards, points and consent, and block, unblock or erase them."""

from datetime import datetime, timedelta

import pytest
import time_machine

from programs import services
from programs.templates_data import ARCHETYPES
from programs.tests.conftest import signed_in
from referral_platform.core.models import AuditEntry
from tests.scenario import event, tick

pytestmark = pytest.mark.django_db
T0 = datetime.fromisoformat("2026-04-06T02:00:00+00:00")


@pytest.fixture
def alice(tenant, api):
    services.program_create(tenant=tenant, spec=ARCHETYPES["green-home"](year=2026), actor=None)
    api.post(
        "/api/v1/participants",
        {"external_id": "alice", "email": "Alice@Example.test",
         "attributes": {"orders_count": 3, "phone_verified": True}},
        format="json",
    )  # fmt: skip
    code = api.post(
        "/api/v1/programs/green-home/enrollments", {"participant": "alice"}, format="json"
    ).json()["code"]
    with time_machine.travel(T0, tick=False):
        event(api, "bob-signup", "signup", "bob", T0 - timedelta(hours=1), referral={"code": code})
        tick()
    from tracking.models import Participant

    return Participant.objects.for_tenant(tenant).get(external_id="alice"), code


def test_search_by_external_id_email_or_code(analyst, alice):
    person, code = alice
    client = signed_in(analyst)
    for query in ("alic", "alice@example.test", code.lower()):
        text = client.get("/app/participants/", {"q": query}).content.decode()
        assert f'href="/app/participants/{person.pk}/">alice</a>' in text, query
    text = client.get("/app/participants/", {"q": "nobody"}).content.decode()
    assert "No participant matches." in text


def test_one_participant_shows_enrolments_both_sides_rewards_points_and_consent(analyst, alice):
    person, code = alice
    text = signed_in(analyst).get(f"/app/participants/{person.pk}/").content.decode()
    assert f"<code>{code}</code>" in text
    made = text[text.index('data-testid="referrals-made"') :]
    assert ">bob</a>" in made.split("</table>")[0]
    assert 'data-testid="consent">Tracked (no opt-out)' in text
    assert 'data-testid="points">0<' in text
    assert 'data-testid="block"' not in text  # an analyst cannot block


def test_ops_block_and_unblock_and_the_owner_erases_with_the_audit_log(ops, owner, tenant, alice):
    person, _code = alice
    client = signed_in(ops)
    assert client.post(f"/app/participants/{person.pk}/block/").status_code == 302
    text = client.get(f"/app/participants/{person.pk}/").content.decode()
    assert 'data-testid="blocked">Email' in text and 'data-testid="unblock"' in text
    client.post(f"/app/participants/{person.pk}/unblock/")
    assert (
        'data-testid="blocked">No' in client.get(f"/app/participants/{person.pk}/").content.decode()
    )
    assert (
        client.post(f"/app/participants/{person.pk}/erase/", {"confirm": "alice"}).status_code
        == 403
    )
    boss = signed_in(owner)
    boss.post(f"/app/participants/{person.pk}/erase/", {"confirm": "wrong"})
    person.refresh_from_db()
    assert person.erased_at is None
    boss.post(f"/app/participants/{person.pk}/erase/", {"confirm": "alice"})
    person.refresh_from_db()
    assert person.erased_at is not None and person.email == ""
    actions = list(
        AuditEntry.objects.for_tenant(tenant).order_by("id").values_list("action", flat=True)
    )
    assert [a for a in actions if a.startswith(("blocklist", "participant.erased"))] == [
        "blocklist.added",
        "blocklist.removed",
        "participant.erased",
    ]


def test_another_tenants_participant_is_404(outsider, alice):
    person, _code = alice
    assert signed_in(outsider).get(f"/app/participants/{person.pk}/").status_code == 404
