import copy

import pytest

from programs import services
from programs.models import Program, ProgramVersion
from programs.spec import SCHEMA
from programs.templates_data import ARCHETYPES
from tracking.models import Participant

pytestmark = pytest.mark.django_db


def _spec(slug="green-home"):
    return ARCHETYPES[slug](year=2026)


def test_posting_a_valid_spec_creates_the_program_and_answers_with_it(api, tenant):
    response = api.post("/api/v1/programs", _spec(), format="json")
    assert response.status_code == 201
    assert response.json() == _spec()
    program = Program.objects.for_tenant(tenant).get(slug="green-home")
    assert program.status == "active"
    assert program.currency == "CNY"
    assert program.landing_url == "https://shop.example.com/"
    assert program.current_version.number == 1


def test_posting_an_existing_slug_is_a_conflict(api):
    assert api.post("/api/v1/programs", _spec(), format="json").status_code == 201
    response = api.post("/api/v1/programs", _spec(), format="json")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "program_exists"


def test_an_invalid_spec_gets_422_with_the_path_of_every_problem(api, tenant):
    spec = _spec()
    spec["stages"][1]["rewards"][0]["amount"] = -5
    spec["caps"][0]["limitt"] = 3
    del spec["currency"]
    response = api.post("/api/v1/programs", spec, format="json")
    assert response.status_code == 422
    fields = response.json()["error"]["fields"]
    assert set(fields) == {"stages[1].rewards[0].amount", "caps[0].limitt", "currency"}
    assert not Program.objects.for_tenant(tenant).exists()


def test_amounts_and_points_beyond_any_program_get_422(api, tenant):
    spec = _spec()
    spec["stages"][1]["rewards"][0]["amount"] = 10**14 + 1  # ¥1,000,000,000,000.01
    spec["budget"] = 10**14  # ¥1,000,000,000,000.00: the most there is
    spec["stages"][0]["rewards"][0] = {**spec["stages"][0]["rewards"][0], "kind": "points"}
    spec["stages"][0]["rewards"][0].pop("amount", None)
    spec["stages"][0]["rewards"][0]["points"] = 10**12 + 1
    response = api.post("/api/v1/programs", spec, format="json")
    assert response.status_code == 422
    assert response.json()["error"]["fields"] == {
        "stages[0].rewards[0].points": ["Must be at most 1,000,000,000,000 points."],
        "stages[1].rewards[0].amount": ["Must be at most ¥1,000,000,000,000."],
    }
    assert not Program.objects.for_tenant(tenant).exists()


def test_cross_reference_problems_are_reported_by_path(api):
    spec = _spec()
    spec["caps"][0]["items"] = ["no_such_reward"]
    spec["stages"][0]["rewards"][1]["key"] = "referee_coupon"
    spec["stages"][1]["rewards"][0]["default_option"] = "nope"
    response = api.post("/api/v1/programs", spec, format="json")
    assert response.status_code == 422
    assert set(response.json()["error"]["fields"]) == {
        "caps[0].items[0]",
        "stages[0].rewards[1].key",
        "stages[1].rewards[0].default_option",
    }


def test_put_makes_a_new_version_and_get_returns_it(api, tenant):
    api.post("/api/v1/programs", _spec(), format="json")
    spec = _spec()
    spec["stages"][0]["rewards"][0]["amount"] = 3000
    response = api.put("/api/v1/programs/green-home", spec, format="json")
    assert response.status_code == 200
    assert response["X-Program-Version"] == "2"
    assert (
        api.get("/api/v1/programs/green-home").json()["stages"][0]["rewards"][0]["amount"] == 3000
    )
    versions = ProgramVersion.objects.for_tenant(tenant).order_by("number")
    assert [v.spec["stages"][0]["rewards"][0]["amount"] for v in versions] == [2000, 3000]


def test_put_of_the_same_spec_makes_no_new_version(api, tenant):
    api.post("/api/v1/programs", _spec(), format="json")
    assert (
        api.put("/api/v1/programs/green-home", _spec(), format="json")["X-Program-Version"] == "1"
    )
    assert ProgramVersion.objects.for_tenant(tenant).count() == 1


def test_put_cannot_rename_the_slug(api):
    api.post("/api/v1/programs", _spec(), format="json")
    spec = _spec()
    spec["slug"] = "other"
    response = api.put("/api/v1/programs/green-home", spec, format="json")
    assert response.status_code == 422
    assert list(response.json()["error"]["fields"]) == ["slug"]


def test_list_shows_only_the_tenants_programs(api, other_api):
    api.post("/api/v1/programs", _spec("green-home"), format="json")
    other_api.post("/api/v1/programs", _spec("saas-b2b"), format="json")
    body = api.get("/api/v1/programs").json()
    assert [p["slug"] for p in body["results"]] == ["green-home"]
    assert body["results"][0]["version"] == 1
    assert body["next"] is None


def test_another_tenants_program_is_not_found(api, other_api):
    other_api.post("/api/v1/programs", _spec(), format="json")
    assert api.get("/api/v1/programs/green-home").status_code == 404
    assert api.put("/api/v1/programs/green-home", _spec(), format="json").status_code == 404
    assert api.get("/api/v1/programs/green-home/eligibility?participant=x").status_code == 404


def test_the_spec_schema_is_published(api, client):
    response = api.get("/api/v1/programs/spec-schema")
    assert response.status_code == 200
    assert response.json() == copy.deepcopy(SCHEMA)
    assert client.get("/api/v1/programs/spec-schema").status_code == 401


def test_idempotency_key_replays_the_first_answer(api, tenant):
    first = api.post("/api/v1/programs", _spec(), format="json", HTTP_IDEMPOTENCY_KEY="k1")
    again = api.post("/api/v1/programs", _spec(), format="json", HTTP_IDEMPOTENCY_KEY="k1")
    assert first.status_code == again.status_code == 201
    assert Program.objects.for_tenant(tenant).count() == 1


def test_eligibility_lists_the_failing_rules(api, tenant):
    services.program_create(tenant=tenant, spec=_spec(), actor=None)
    Participant.objects.for_tenant(tenant).create(
        tenant=tenant, external_id="good", attributes={"orders_count": 2, "phone_verified": True}
    )
    Participant.objects.for_tenant(tenant).create(tenant=tenant, external_id="new", attributes={})
    assert api.get("/api/v1/programs/green-home/eligibility?participant=good").json() == {
        "participant": "good",
        "eligible": True,
        "reasons": [],
    }
    assert api.get("/api/v1/programs/green-home/eligibility?participant=new").json() == {
        "participant": "new",
        "eligible": False,
        "reasons": ["has_valid_order", "phone_verified"],
    }
    assert api.get("/api/v1/programs/green-home/eligibility?participant=ghost").status_code == 404
    response = api.post(
        "/api/v1/programs/green-home/eligibility",
        {"participants": ["new", "good", "ghost"]},
        format="json",
    )
    assert response.status_code == 200
    assert [(r["participant"], r["eligible"]) for r in response.json()["results"]] == [
        ("new", False),
        ("good", True),
        ("ghost", False),
    ]
    assert response.json()["results"][2]["error"] == "not_found"


def test_eligibility_batches_are_limited_to_1000(api, tenant):
    services.program_create(tenant=tenant, spec=_spec(), actor=None)
    response = api.post(
        "/api/v1/programs/green-home/eligibility", [f"p{i}" for i in range(1001)], format="json"
    )
    assert response.status_code == 422
    assert "participants" in response.json()["error"]["fields"]


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "//evil.com/",
        "ftp://shop.example.com/",
        "shop.example.com",
        "https://",
    ],
)
def test_a_landing_url_that_is_not_http_or_https_is_refused(api, tenant, url):
    spec = _spec()
    spec["landing_url"] = url
    response = api.post("/api/v1/programs", spec, format="json")
    assert response.status_code == 422
    assert list(response.json()["error"]["fields"]) == ["landing_url"]
    assert not Program.objects.for_tenant(tenant).exists()
    spec["landing_url"] = "HTTP://shop.example.com/join?x=1"
    assert api.post("/api/v1/programs", spec, format="json").status_code == 201
