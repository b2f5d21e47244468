"""Input PostgreSQL cannot store is refused before it gets there (SEMANTICS §10 "Strings"):
a 422 naming the field, a 404 for a path parameter that cannot exist, a 400 for a body
nested beyond parsing; a batch answers per item and keeps every good one. Random JSON
posted to every write endpoint never answers 5xx nor changes what is stored."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from programs.services import program_create
from referral_platform.tenancy.models import Tenant
from tracking import services
from tracking.models import Enrollment, Event, Participant
from tracking.tests.conftest import make_spec

pytestmark = pytest.mark.django_db


def signup(event_id: str, external_id: str = "u-1", **extra) -> dict:
    return {
        "event_id": event_id,
        "type": "signup",
        "participant": {"external_id": external_id},
        **extra,
    }


def _post(api, path, body):
    return api.post(path, json.dumps(body), content_type="application/json")


@pytest.mark.parametrize(
    ("properties", "field"),
    [
        ({"note": "a\x00b"}, "properties.note"),
        ({"note": "\ud800"}, "properties.note"),
        ({"a\x00": 1}, "properties.a\\x00"),
        ({"\udc80": 1}, "properties.\\udc80"),
        ({"big": 2**63}, "properties.big"),
        ({"list": [1, {"deep": -(2**63) - 1}]}, "properties.list[1].deep"),
    ],
)
def test_a_string_or_number_postgres_cannot_store_is_a_422_naming_it(
    api, tenant, properties, field
):
    response = _post(api, "/api/v1/events", signup("e-1", properties=properties))
    assert response.status_code == 422
    assert field in response.json()["error"]["fields"]
    assert not Event.objects.for_tenant(tenant).exists()


def test_an_amount_beyond_bigint_is_a_422_and_the_edge_is_stored(api, tenant):
    purchase = {
        "event_id": "p-1",
        "type": "purchase",
        "participant": {"external_id": "u-1"},
        "amount": {"amount_minor": 2**63, "currency": "CNY"},
    }
    response = _post(api, "/api/v1/events", purchase)
    assert response.status_code == 422
    assert "amount.amount_minor" in response.json()["error"]["fields"]
    purchase["amount"]["amount_minor"] = 2**63 - 1
    assert _post(api, "/api/v1/events", purchase).status_code == 202
    assert Event.objects.for_tenant(tenant).get().amount_minor == 2**63 - 1


def test_nesting_has_a_limit_and_a_body_beyond_parsing_is_a_400(api, tenant):
    deep: dict = {}
    for _ in range(40):
        deep = {"x": deep}
    response = _post(api, "/api/v1/events", signup("e-1", properties=deep))
    assert response.status_code == 422
    assert "levels deep" in json.dumps(response.json()["error"]["fields"])
    body = "[" * 5000 + "]" * 5000
    response = api.post("/api/v1/events", body, content_type="application/json")
    assert response.status_code == 400 and response.json()["error"]["code"] == "parse_error"
    assert not Event.objects.for_tenant(tenant).exists()


def test_a_nul_in_a_path_parameter_is_a_404_and_in_a_query_a_422(api, tenant):
    assert api.get("/api/v1/participants/u%00x").status_code == 404
    assert api.get("/api/v1/referrals/1%00").status_code == 404
    assert api.get("/api/v1/participants/%ED%A0%80").status_code == 404
    response = api.get("/api/v1/referrals?referrer=a%00b")
    assert response.status_code == 422 and "referrer" in response.json()["error"]["fields"]


def test_a_batch_keeps_every_good_item_and_lists_each_bad_one_by_index(api, tenant):
    events = [
        signup("b-0", "u-0"),
        signup("b-1", "u-1", properties={"note": "a\x00"}),
        "not an object",
        {
            "event_id": "b-3",
            "type": "purchase",
            "participant": {"external_id": "u-3"},
            "amount": {"amount_minor": 2**64, "currency": "CNY"},
        },
        signup("b-4\ud800", "u-4"),
        None,
        signup("b-6", "u-6", properties={"ok": [1, 2, {"fine": True}]}),
    ]
    response = _post(api, "/api/v1/events/batch", {"events": events})
    assert response.status_code == 202
    results = response.json()["results"]
    assert [r["index"] for r in results] == list(range(7))
    assert [r["status"] for r in results] == [
        "accepted",
        "invalid",
        "invalid",
        "invalid",
        "invalid",
        "invalid",
        "accepted",
    ]
    assert list(results[1]["fields"]) == ["properties.note"]
    assert "non_field_errors" in results[2]["fields"]
    assert list(results[3]["fields"]) == ["amount.amount_minor"]
    assert list(results[4]["fields"]) == ["event_id"]
    stored = Event.objects.for_tenant(tenant).order_by("event_id")
    assert [e.event_id for e in stored] == ["b-0", "b-6"]
    assert stored[1].payload["properties"] == {"ok": [1, 2, {"fine": True}]}


def test_a_batch_of_nothing_but_bad_items_is_a_422_naming_each(api, tenant):
    response = _post(api, "/api/v1/events/batch", {"events": [7, signup("x\x00")]})
    assert response.status_code == 422
    fields = response.json()["error"]["fields"]
    assert "events[0].non_field_errors" in fields and "events[1].event_id" in fields


# --- random JSON against every write endpoint --------------------------------------------

BAD_TEXT = st.sampled_from(["\x00", "a\x00b", "\ud800", "x\udfff", "", " ", "中文", "null"])
TEXT = st.text(max_size=12) | BAD_TEXT
NUMBERS = (
    st.integers()
    | st.sampled_from([2**63, -(2**63) - 1, 2**63 - 1, 10**40, -1, 0])
    | st.floats(allow_nan=False, allow_infinity=False)
)
LEAVES = st.none() | st.booleans() | NUMBERS | TEXT
JSON = st.recursive(
    LEAVES,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=12,
)
# Each write endpoint with a body it accepts; the test replaces or adds a few values at any
# depth, so validation is passed field by field and the bad value lands where it matters.
FUTURE = "2099-01-01T00:00:00+00:00"
WRITE_ENDPOINTS = {
    ("post", "/api/v1/participants"): {
        "external_id": "u-new",
        "email": "new@shop.test",
        "name": "New",
        "segments": ["vip"],
        "attributes": {"region": "east", "orders_count": 3},
    },
    ("post", "/api/v1/programs/friends/enrollments"): {"participant": "u-bob", "code": ""},
    ("post", "/api/v1/events"): signup(
        "f-1", "u-new", properties={"note": "hi", "n": [1, {"k": "v"}]}
    ),
    ("post", "/api/v1/events/batch"): {
        "events": [signup("f-2", "u-new"), signup("f-3", "u-new", properties={"a": 1})]
    },
    ("post", "/api/v1/claims"): {
        "program": "friends",
        "referee": "u-bob",
        "referrer_code": "NOPE",
        "referrer_email": "",
    },
    ("post", "/api/v1/event-qr"): {"code": "NOPE", "event": "fair", "expires_at": FUTURE},
    ("post", "/api/v1/portal-sessions"): {
        "participant": "u-alice",
        "return_url": "https://shop.test/",
    },
    ("post", "/api/v1/webhook-endpoints"): {
        "url": "https://hooks.example.test/x",
        "events": ["reward.approved"],
    },
    ("post", "/api/v1/programs"): make_spec(slug="fuzzed"),
    ("put", "/api/v1/programs/friends"): make_spec(),
    ("post", "/api/v1/programs/friends/eligibility"): {"participants": ["u-alice", "u-x"]},
    ("post", "/api/v1/redemptions"): {"participant": "u-alice", "program": "friends", "item": "x"},
}


def _paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _paths(child, (*prefix, index))


@st.composite
def requests(draw):
    endpoint = draw(st.sampled_from(sorted(WRITE_ENDPOINTS)))
    body = json.loads(json.dumps(WRITE_ENDPOINTS[endpoint]))
    if draw(st.integers(0, 15)) == 0:
        return endpoint, draw(JSON)
    paths = [p for p in _paths(body) if p]
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(paths))
        parent = body
        for step in path[:-1]:
            # An earlier change may have replaced what this path walks through.
            try:
                parent = parent[step] if isinstance(parent, (dict, list)) else None
            except (IndexError, KeyError, TypeError):
                parent = None
            if parent is None:
                break
        if not isinstance(parent, (dict, list)):
            continue
        try:
            if isinstance(parent, dict) and draw(st.booleans()):
                parent[draw(TEXT)] = draw(LEAVES)  # a key of its own choosing
            else:
                parent[path[-1]] = draw(LEAVES | JSON)
        except (IndexError, KeyError, TypeError):
            continue
    return endpoint, body


def _snapshot(tenant, enrollments) -> dict:
    return {
        "participants": list(
            Participant.objects.for_tenant(tenant)
            .filter(external_id__in=["u-alice", "u-bob"])
            .order_by("external_id")
            .values("external_id", "name", "email", "phone", "attributes", "segments")
        ),
        "events": list(
            Event.objects.for_tenant(tenant)
            .filter(event_id__in=["seed-1", "seed-2"])
            .order_by("event_id")
            .values("event_id", "type", "payload", "amount_minor", "body_hash")
        ),
        "enrollments": list(
            Enrollment.objects.for_tenant(tenant)
            .filter(pk__in=enrollments)
            .order_by("pk")
            .values("pk", "participant_id", "eligible")
        ),
        "tenant": list(Tenant.objects.filter(pk=tenant.pk).values()),
    }


@pytest.fixture
def seeded(api, tenant, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE = True  # no DNS: the URL's checks are tested elsewhere
    program_create(tenant=tenant, spec=make_spec(), actor=None)
    for external_id in ("u-alice", "u-bob"):
        services.participant_upsert(tenant=tenant, external_id=external_id, name=external_id)
    body = {"participant": "u-alice"}
    assert _post(api, "/api/v1/programs/friends/enrollments", body).status_code == 201
    for event_id in ("seed-1", "seed-2"):
        body = signup(event_id, "u-alice", properties={"n": 1})
        assert _post(api, "/api/v1/events", body).status_code == 202
    enrollments = list(Enrollment.objects.for_tenant(tenant).values_list("pk", flat=True))
    return enrollments, _snapshot(tenant, enrollments)


@settings(
    max_examples=400,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(request=requests())
def test_random_json_to_any_write_endpoint_is_never_a_5xx_nor_changes_stored_items(
    api, tenant, seeded, request
):
    (method, path), body = request
    enrollments, before = seeded
    response = getattr(api, method)(path, json.dumps(body), content_type="application/json")
    assert response.status_code < 500, (path, body, response.content[:300])
    assert isinstance(response.json(), (dict, list))
    assert _snapshot(tenant, enrollments) == before
