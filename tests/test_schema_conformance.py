"""The OpenAPI schema describes what the API does: schemathesis generates requests from the
schema for every operation and checks each answer: never a server error, and a documented
status, content type, headers and body. Bounded: 10 cases per operation (about a minute and a half).

Not checked: that the API accepts every request the schema allows, or refuses every one it
does not. Validity rests on rules JSON Schema cannot state (a purchase needs an amount, `to`
not before `from`, a real phone number, a program spec's cross-references, integers within
bigint in free objects), and DRF reads the number 0 as the text "0", a leniency the API keeps.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import negative_data_rejection, positive_data_acceptance

from programs.services import program_create
from referral_platform.core.testing import keep_test_connection
from referral_platform.wsgi import application
from tracking import services
from tracking.tests.conftest import make_spec

schema = schemathesis.openapi.from_wsgi("/api/v1/schema/", application)
# The API refuses NUL and lone surrogates in any string (SEMANTICS §10 "Strings"), which
# JSON Schema cannot say.
schema.config.generation.update(allow_x00=False, codec="utf-8")


@pytest.fixture
def bearer(db, tenant, api_key, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE = True  # no DNS lookups from generated URLs
    program_create(tenant=tenant, spec=make_spec(), actor=None)
    services.participant_upsert(tenant=tenant, external_id="u-alice", name="Alice")
    with keep_test_connection():
        yield {"Authorization": f"Bearer {api_key}"}


@schema.parametrize()
@settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck))
def test_the_api_answers_as_its_schema_says(case, bearer):
    case.call_and_validate(
        headers=bearer, excluded_checks=[negative_data_rejection, positive_data_acceptance]
    )
