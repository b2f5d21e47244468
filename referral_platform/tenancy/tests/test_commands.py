import re
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db.models import Sum

from analytics.models import DailyRollup
from referral_platform.tenancy.models import ApiKey, Membership, Tenant
from referral_platform.tenancy.services import api_key_authenticate
from tracking.models import Click, Event

pytestmark = pytest.mark.django_db


def _seed() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def test_seed_demo_prints_a_line_per_tenant_and_duplicates_nothing_when_run_twice():
    first = _seed()
    lines = re.findall(r"^tenant=(\S+) program=(\S+) api_key=(\S+)$", first, re.M)
    assert [(t, p) for t, p, _ in lines] == [
        ("demo-saas", "saas-b2b"),
        ("demo-shop", "green-home"),
        ("demo-school", "study-together"),
    ]
    assert all(api_key_authenticate(k).tenant.slug == t for t, _, k in lines)
    assert "owner@demo.test" in first and "/accounts/login/" in first
    saas = Tenant.objects.get(slug="demo-saas")
    assert (saas.currency, saas.timezone) == ("CNY", "Asia/Shanghai")
    owner = get_user_model().objects.get(email="owner@demo.test")
    assert Membership.objects.filter(user=owner).count() == 3
    # The sample events are processed and the dashboards filled before the first tick.
    assert not Event.objects.for_tenant(saas).filter(processed_at=None).exists()
    clicks = DailyRollup.objects.for_tenant(saas).aggregate(n=Sum("clicks"))["n"]
    assert clicks == Click.objects.for_tenant(saas).count() > 0

    second = _seed()
    keys = re.findall(r"api_key=(\S+)", second)
    assert Tenant.objects.count() == 3
    assert get_user_model().objects.filter(email__endswith="@demo.test").count() == 4
    assert Membership.objects.count() == 12
    # The old keys are revoked, the new ones work: one live demo key per tenant.
    assert all(api_key_authenticate(k) is None for _, _, k in lines)
    assert all(api_key_authenticate(k) is not None for k in keys)
    assert ApiKey.unscoped.filter(revoked_at=None).count() == 3


def test_seed_demo_resets_the_demo_passwords():
    _seed()
    owner = get_user_model().objects.get(email="owner@demo.test")
    owner.set_password("changed-by-someone")
    owner.save()
    _seed()
    owner.refresh_from_db()
    assert owner.check_password("demo-owner-pass")


def test_create_tenant_prints_the_key_once():
    out = StringIO()
    call_command(
        "create_tenant",
        "--name=Acme",
        "--slug=acme",
        "--owner-email=a@acme.test",
        "--currency=CNY",
        "--timezone=Asia/Shanghai",
        stdout=out,
    )
    key = re.fullmatch(r"api_key=(\S+)\n", out.getvalue()).group(1)
    assert api_key_authenticate(key).tenant.slug == "acme"
