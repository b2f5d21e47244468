"""The standing cast every test can use: two tenants, their staff in every role, API keys."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from referral_platform.core import testing
from referral_platform.tenancy.models import Role
from referral_platform.tenancy.scoping import tenant_context
from referral_platform.tenancy.services import (
    api_key_create,
    membership_add,
    tenant_create,
    user_get_or_create,
)


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Rate-limit counters and cached lookups never leak from one test into the next."""
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture(autouse=True)
def _default_language():
    """A request in Chinese leaves Chinese active in this thread; the next test starts in
    the default language."""
    from django.utils import translation

    yield
    translation.deactivate()


@pytest.fixture
def tenant(db):
    return tenant_create(
        name="Acme",
        slug="acme",
        owner_email="owner@acme.test",
        currency="CNY",
        timezone="Asia/Shanghai",
        owner_password="pw-owner-12345",
    )


@pytest.fixture
def other_tenant(db):
    return tenant_create(
        name="Globex",
        slug="globex",
        owner_email="owner@globex.test",
        currency="USD",
        timezone="America/New_York",
        owner_password="pw-other-12345",
    )


@pytest.fixture
def tenant_ctx(tenant):
    with tenant_context(tenant):
        yield tenant


def _member(tenant, email: str, role: str):
    user = user_get_or_create(email=email, password="pw-" + role + "-12345")
    membership_add(tenant=tenant, user=user, role=role)
    return user


@pytest.fixture
def owner(tenant):
    return tenant.memberships.get(role=Role.OWNER).user


@pytest.fixture
def marketer(tenant):
    return _member(tenant, "marketer@acme.test", Role.MARKETER)


@pytest.fixture
def ops(tenant):
    return _member(tenant, "ops@acme.test", Role.OPS)


@pytest.fixture
def analyst(tenant):
    return _member(tenant, "analyst@acme.test", Role.ANALYST)


@pytest.fixture
def outsider(other_tenant):
    return other_tenant.memberships.get(role=Role.OWNER).user


@pytest.fixture
def api_key(tenant) -> str:
    return api_key_create(tenant=tenant, name="test")[1]


@pytest.fixture
def other_api_key(other_tenant) -> str:
    return api_key_create(tenant=other_tenant, name="test")[1]


@pytest.fixture
def api(api_key) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key}")
    return client


@pytest.fixture
def other_api(other_api_key) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {other_api_key}")
    return client


@pytest.fixture
def require_or_skip():
    """`require_or_skip("why")`: skip, or fail when REQUIRE_SERVICES=1 (CI)."""
    return testing.require_or_skip


@pytest.fixture
def redis_url() -> str:
    """REDIS_URL when Redis answers; otherwise skip (fail under REQUIRE_SERVICES=1)."""
    return testing.redis_url_or_skip()
