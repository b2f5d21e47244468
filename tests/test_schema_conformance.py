"""The OpenAPI schema describes what the API does: schemathesis generates requests from the
schema for every operation and checks each answer with every check it has: never a server
error; a documented status, content type, headers and body; a request the schema allows is
accepted (positive data) and one it forbids is refused (negative data). Bounded: 10 cases
per operation (about three minutes).

A body that breaks the API's input rule for free objects (`core.api.inputcheck`: no NUL,
no lone surrogate, integers within bigint, in keys and values alike) is not counted as
valid data: JSON Schema cannot say it of additional properties. `GAPS` lists, per operation, the data checks JSON Schema cannot carry there, each with the
rule the API keeps that the schema cannot state; every other check runs on it (a server
error, an undocumented status or a body unlike the schema still fail), and every check runs
on every other operation.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import negative_data_rejection, positive_data_acceptance

from programs.services import program_create
from referral_platform.core.api.inputcheck import json_problems
from referral_platform.core.testing import keep_test_connection
from referral_platform.wsgi import application
from tracking import services
from tracking.tests.conftest import make_spec

schema = schemathesis.openapi.from_wsgi("/api/v1/schema/", application)
# The API refuses NUL and lone surrogates in any string (SEMANTICS §10 "Strings"), which
# JSON Schema cannot say.
schema.config.generation.update(allow_x00=False, codec="utf-8")
# The test sends the API key with every case (`bearer`), so a case generated without it or
# with a broken one would test the harness, not the schema; and a query parameter the
# operation does not name is ignored, as HTTP APIs do.
schema.config.generation.update(allow_extra_parameters=False, with_security_parameters=False)

_DATES = "`to` may not be before `from` (422), a rule across two parameters"
_STRINGS = (
    "free objects refuse NUL, lone surrogates and integers beyond bigint in keys and values "
    '(SEMANTICS §10 "Strings"), which JSON Schema cannot say of additional properties'
)
_URL = (
    "a URL must be one Django's validator accepts (a host of at most 253 characters, labels "
    "of at most 63), more than the `uri` format says"
)
_TEXT = 'DRF reads a number given for a text field as its text (0 as "0"), a leniency kept'
_EVENT = "an event's fields depend on its type: a purchase or a refund needs an amount"
GAPS = {
    "GET /api/v1/analytics/funnel": {positive_data_acceptance: _DATES},
    "GET /api/v1/analytics/kpis": {positive_data_acceptance: _DATES},
    "GET /api/v1/analytics/referrers": {positive_data_acceptance: _DATES},
    "GET /api/v1/analytics/incrementality": {positive_data_acceptance: _DATES},
    "POST /api/v1/portal-sessions": {positive_data_acceptance: _URL},
    "POST /api/v1/programs": {
        positive_data_acceptance: "a program spec must hold together (stages, rewards and "
        "their cross-references), checked by the spec's own validator",
    },
    "POST /api/v1/events": {positive_data_acceptance: _EVENT, negative_data_rejection: _TEXT},
    "POST /api/v1/events/batch": {
        positive_data_acceptance: _EVENT,
        negative_data_rejection: _TEXT,
    },
    "POST /api/v1/participants": {
        positive_data_acceptance: "a phone number must be a real one, with its country code",
        negative_data_rejection: _TEXT,
    },
    "POST /api/v1/webhook-endpoints": {
        positive_data_acceptance: _URL,
        negative_data_rejection: _TEXT,
    },
}


@pytest.fixture
def bearer(db, tenant, api_key, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE = True  # no DNS lookups from generated URLs
    program_create(tenant=tenant, spec=make_spec(), actor=None)
    services.participant_upsert(tenant=tenant, external_id="u-alice", name="Alice")
    with keep_test_connection():
        yield {"Authorization": f"Bearer {api_key}"}


def test_every_gap_names_an_operation_of_the_schema():
    labels = {result.ok().label for result in schema.get_all_operations()}
    assert set(GAPS) <= labels


@schema.parametrize()
@settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck))
def test_the_api_answers_as_its_schema_says(case, bearer):
    excluded = set(GAPS.get(case.operation.label, {}))
    body = getattr(case, "body", None)
    if isinstance(body, (dict, list)) and json_problems(body):
        excluded.add(positive_data_acceptance)  # _STRINGS: the API's one input rule says no
    case.call_and_validate(headers=bearer, excluded_checks=list(excluded))


def test_an_empty_optional_filter_is_described_as_ignored():
    operation = schema.raw_schema["paths"]["/api/v1/referrals"]["get"]
    params = {p["name"]: p["schema"] for p in operation["parameters"]}
    assert {"type": "string", "maxLength": 0} in params["status"]["anyOf"]
    assert {"type": "string", "maxLength": 0} in params["created_after"]["anyOf"]
