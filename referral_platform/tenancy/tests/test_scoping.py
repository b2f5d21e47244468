import pytest

from referral_platform.core.errors import TenantContextMissing
from referral_platform.tenancy.models import ApiKey
from referral_platform.tenancy.scoping import tenant_context
from referral_platform.tenancy.services import api_key_authenticate, api_key_create


def test_scoped_manager_raises_without_a_tenant_context(tenant):
    api_key_create(tenant=tenant, name="k")
    with pytest.raises(TenantContextMissing):
        list(ApiKey.objects.all())


def test_for_tenant_and_context_return_only_that_tenants_rows(tenant, other_tenant):
    mine, _ = api_key_create(tenant=tenant, name="mine")
    theirs, _ = api_key_create(tenant=other_tenant, name="theirs")
    assert list(ApiKey.objects.for_tenant(tenant)) == [mine]
    with tenant_context(other_tenant):
        assert list(ApiKey.objects.all()) == [theirs]
        assert not ApiKey.objects.filter(pk=mine.pk).exists()


def test_api_key_is_stored_as_prefix_and_sha256_and_authenticates(tenant):
    key, full = api_key_create(tenant=tenant, name="k")
    assert full.startswith(key.prefix + ".")
    assert full not in key.secret_hash and len(key.secret_hash) == 64
    assert api_key_authenticate(full) == key
    assert api_key_authenticate(full + "x") is None
    assert api_key_authenticate("rk_live_nope.secret") is None
