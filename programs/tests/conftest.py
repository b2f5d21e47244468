import pytest
from django.test import Client

from programs import services
from programs.templates_data import ARCHETYPES


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def draft_of(tenant, template: str):
    """The archetype `template` (year 2026) as a draft program of `tenant`."""
    spec = ARCHETYPES[template](year=2026)
    spec["status"] = "draft"
    return services.program_create(tenant=tenant, spec=spec, actor=None)


@pytest.fixture
def green(tenant):
    return draft_of(tenant, "green-home")


@pytest.fixture
def saas(tenant):
    return draft_of(tenant, "saas-b2b")


@pytest.fixture
def study(tenant):
    return draft_of(tenant, "study-together")
