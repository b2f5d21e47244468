import pytest
from django.db import transaction

from referral_platform.core.errors import ValidationFailed
from tracking import identity, services
from tracking.codes import ALPHABET
from tracking.models import Enrollment, Participant, ReferralCode


def test_gmail_dots_and_plus_tags_fold_to_one_match_key():
    assert identity.email_match_key("J.Doe+promo@GoogleMail.com ") == "jdoe@gmail.com"
    assert identity.email_match_key("j.doe+x@example.com") == "j.doe+x@example.com"
    assert identity.email_hash("jdoe@gmail.com") == identity.email_hash("J.D.O.E+abc@gmail.com")


def test_phone_is_stored_in_e164_and_bad_numbers_are_refused():
    assert identity.normalize_phone("138 0013 8000") == "+8613800138000"
    assert identity.normalize_phone("+1 (415) 555-2671") == "+14155552671"
    with pytest.raises(ValueError):
        identity.normalize_phone("12345")


def test_hashes_are_keyed_so_they_change_with_the_key(settings):
    first = identity.phone_hash("+8613800138000")
    settings.IDENTITY_HMAC_KEY = "another-key"
    assert identity.phone_hash("+8613800138000") != first
    assert len(first) == 64


def test_upsert_creates_then_updates_by_external_id(tenant):
    p, created = services.participant_upsert(
        tenant=tenant, external_id="u1", email="Ann.Lee+x@Gmail.com", attributes={"orders_count": 1}
    )
    assert created and p.email == "ann.lee+x@gmail.com" and p.email_domain == "gmail.com"
    assert p.email_hash == identity.email_hash("annlee@gmail.com")
    p2, created2 = services.participant_upsert(
        tenant=tenant, external_id="u1", phone="13800138000", attributes={"nps": 9}
    )
    assert not created2 and p2.pk == p.pk
    assert p2.phone == "+8613800138000" and p2.email == "ann.lee+x@gmail.com"
    assert p2.attributes == {"orders_count": 1, "nps": 9}


def test_an_invalid_phone_is_a_field_error_and_nothing_is_written(tenant):
    with pytest.raises(ValidationFailed) as exc:
        services.participant_upsert(tenant=tenant, external_id="u1", phone="not a phone")
    assert "phone" in exc.value.fields
    assert Participant.objects.for_tenant(tenant).count() == 0


def test_enrollment_is_idempotent_and_gives_one_unambiguous_code(tenant, program, alice):
    e1, code1, created1 = services.enrollment_create(
        tenant=tenant, program=program, participant=alice
    )
    e2, code2, created2 = services.enrollment_create(
        tenant=tenant, program=program, participant=alice
    )
    assert created1 and not created2
    assert e1.pk == e2.pk and code1.pk == code2.pk
    assert 6 <= len(code1.code) <= 8 and set(code1.code) <= set(ALPHABET)
    assert Enrollment.objects.for_tenant(tenant).count() == 1
    assert ReferralCode.objects.for_tenant(tenant).count() == 1


def test_an_ineligible_participant_still_gets_a_code_with_the_reasons(tenant, alice):
    from programs.services import program_create

    from .conftest import make_spec

    spec = make_spec(slug="strict")
    spec["eligibility"] = {
        "referrer": [
            {
                "key": "has_order",
                "label": "Has ordered",
                "when": {"field": "orders_count", "op": "gte", "value": 1},
            }
        ]
    }
    program = program_create(tenant=tenant, spec=spec, actor=None)
    enrollment, code, _ = services.enrollment_create(
        tenant=tenant, program=program, participant=alice
    )
    assert enrollment.eligible is False
    assert enrollment.ineligible_reasons == ["has_order"]
    assert code.code


def test_opt_out_export_and_erasure(tenant, alice, alice_code):
    services.participant_opt_out(participant=alice)
    alice.refresh_from_db()
    assert alice.opted_out_at is not None
    exported = services.participant_export(participant=alice)
    assert exported["participant"]["email"] == "alice@shop.test"
    assert exported["enrollments"][0]["codes"] == [alice_code.code]
    services.participant_erase(participant=alice)
    alice.refresh_from_db()
    assert (alice.email, alice.email_hash, alice.phone, alice.phone_hash, alice.name) == (
        "",
        "",
        "",
        "",
        "",
    )
    assert alice.erased_at is not None


def test_erasure_forgets_the_cached_code_entry_that_names_the_referrer(
    tenant, alice, alice_code, django_capture_on_commit_callbacks
):
    assert services.code_resolve(alice_code.code)["referrer_name"] == "Alice"
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        services.participant_erase(participant=alice)
    assert services.code_resolve(alice_code.code)["referrer_name"] == ""


# --- API -----------------------------------------------------------------------------


def test_participant_api_upserts_with_201_then_200(api):
    body = {
        "external_id": "c-1",
        "email": "c1@shop.test",
        "name": "Chen",
        "segments": ["vip"],
        "attributes": {"orders_count": 2},
    }
    first = api.post("/api/v1/participants", body, format="json")
    assert first.status_code == 201
    assert first.json()["external_id"] == "c-1" and first.json()["segments"] == ["vip"]
    again = api.post(
        "/api/v1/participants", {"external_id": "c-1", "name": "Chen Li"}, format="json"
    )
    assert again.status_code == 200 and again.json()["name"] == "Chen Li"


def test_participant_api_gives_field_paths_for_bad_input(api):
    response = api.post(
        "/api/v1/participants", {"email": "x@y.test", "segments": "vip"}, format="json"
    )
    assert response.status_code == 422
    assert set(response.json()["error"]["fields"]) == {"external_id", "segments"}


def test_enrollment_api_answers_code_links_and_eligibility(api, program, alice, settings):
    response = api.post(
        f"/api/v1/programs/{program.slug}/enrollments", {"participant": "u-alice"}, format="json"
    )
    assert response.status_code == 201
    data = response.json()
    code = data["code"]
    assert data == {
        "code": code,
        "url": f"{settings.PUBLIC_BASE_URL}/r/{code}",
        "qr_png_url": f"{settings.PUBLIC_BASE_URL}/qr/{code}.png",
        "poster_png_url": f"{settings.PUBLIC_BASE_URL}/qr/{code}/poster.png",
        "eligible": True,
        "ineligible_reasons": [],
        "held_out": False,
    }
    again = api.post(
        f"/api/v1/programs/{program.slug}/enrollments", {"participant": "u-alice"}, format="json"
    )
    assert again.status_code == 200 and again.json()["code"] == code
    detail = api.get("/api/v1/participants/u-alice")
    assert detail.status_code == 200
    assert detail.json()["enrollments"][0]["program"] == program.slug
    assert detail.json()["enrollments"][0]["code"] == code


def test_another_tenants_participant_and_program_are_404(other_api, program, alice):
    assert other_api.get("/api/v1/participants/u-alice").status_code == 404
    response = other_api.post(
        f"/api/v1/programs/{program.slug}/enrollments", {"participant": "u-alice"}, format="json"
    )
    assert response.status_code == 404


def test_a_participant_can_choose_a_vanity_code_once_it_is_free(api, program, alice, bob):
    chosen = api.post(
        f"/api/v1/programs/{program.slug}/enrollments",
        {"participant": "u-alice", "code": "alice-2026"},
        format="json",
    )
    assert chosen.status_code == 201 and chosen.json()["code"] == "ALICE-2026"
    taken = api.post(
        f"/api/v1/programs/{program.slug}/enrollments",
        {"participant": "u-bob", "code": "Alice-2026"},
        format="json",
    )
    assert taken.status_code == 409 and taken.json()["error"]["code"] == "code_taken"
    bad = api.post(
        f"/api/v1/programs/{program.slug}/enrollments",
        {"participant": "u-bob", "code": "a!"},
        format="json",
    )
    assert bad.status_code == 422 and "code" in bad.json()["error"]["fields"]
