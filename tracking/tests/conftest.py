"""Programs and participants the tracking tests share."""

from __future__ import annotations

import pytest

from programs.services import program_create
from programs.templates_data import blank_spec
from tracking import services


def make_spec(slug="friends", **attribution) -> dict:
    spec = blank_spec(slug=slug, name="Bring a friend", currency="CNY")
    spec["status"] = "active"
    spec["landing_url"] = ""
    spec["offer"] = {"headline": "¥20 off your first order", "body": "Valid 7 days."}
    spec["attribution"] = {"window_days": 30, "model": "last", **attribution}
    spec["stages"] = [
        {
            "key": "paid",
            "label": "First purchase",
            "status": "converted",
            "success": True,
            "condition": {"event": "purchase"},
            "rewards": [],
        },
    ]
    return spec


@pytest.fixture
def program(tenant):
    return program_create(tenant=tenant, spec=make_spec(), actor=None)


@pytest.fixture
def other_program(other_tenant):
    return program_create(tenant=other_tenant, spec=make_spec(), actor=None)


@pytest.fixture
def alice(tenant):
    return services.participant_upsert(
        tenant=tenant,
        external_id="u-alice",
        name="Alice",
        email="alice@shop.test",
        phone="+8613800138000",
    )[0]


@pytest.fixture
def bob(tenant):
    return services.participant_upsert(
        tenant=tenant, external_id="u-bob", name="Bob", email="bob@shop.test"
    )[0]


@pytest.fixture
def alice_code(tenant, program, alice):
    return services.enrollment_create(tenant=tenant, program=program, participant=alice)[1]


@pytest.fixture
def bob_code(tenant, program, bob):
    return services.enrollment_create(tenant=tenant, program=program, participant=bob)[1]
