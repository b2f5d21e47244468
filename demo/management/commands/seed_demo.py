"""The demo of SEMANTICS §9: three tenants, a team that spans them, a key each, sample data.

Idempotent: tenants and people are looked up by slug and email; passwords are reset and
the demo API keys rotated on each run; the apps' seed functions must be idempotent too.
"""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction
from django.test.utils import override_settings

from demo.data import demo_data_seed
from programs.services import demo_programs_seed
from referral_platform.core import periodic
from referral_platform.tenancy.models import ApiKey, Role, Tenant
from referral_platform.tenancy.scoping import tenant_context
from referral_platform.tenancy.services import (
    api_key_create,
    api_key_revoke,
    membership_add,
    tenant_create,
    user_get_or_create,
)

DEMO_KEY_NAME = "demo"

TENANTS = [
    # slug, name, currency, timezone, locale, brand colour, program slug
    ("demo-saas", "Demo SaaS", "CNY", "Asia/Shanghai", "zh-hans", "#1f6feb", "saas-b2b"),
    ("demo-shop", "Demo Shop", "CNY", "Asia/Shanghai", "zh-hans", "#2fb344", "green-home"),
    ("demo-school", "Demo School", "CNY", "Asia/Shanghai", "zh-hans", "#f76707", "study-together"),
]

# China's 2026 National Day holiday and its make-up working days (调休), for the calendar.
HOLIDAYS = ["2026-10-01", "2026-10-02", "2026-10-05", "2026-10-06", "2026-10-07"]
WORKDAYS = ["2026-09-27", "2026-10-10"]

PEOPLE = [
    ("owner@demo.test", "demo-owner-pass", Role.OWNER),
    ("marketer@demo.test", "demo-marketer-pass", Role.MARKETER),
    ("ops@demo.test", "demo-ops-pass", Role.OPS),
    ("analyst@demo.test", "demo-analyst-pass", Role.ANALYST),
]


class Command(BaseCommand):
    help = "Create or refresh the three demo tenants; prints one line per tenant, then logins."

    def add_arguments(self, parser):
        parser.add_argument("--no-data", action="store_true", help="skip the sample data")

    def handle(self, *args, **options):
        # The sample history sends the referrers' emails; printed by the console backend they
        # would bury the logins below. Emails sent once the server runs are shown as usual.
        with override_settings(EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend"):
            lines = self._seed(with_data=not options["no_data"])
        self._print(lines)

    def _seed(self, *, with_data: bool) -> list[str]:
        lines = []
        for slug, name, currency, tz, locale, colour, program_slug in TENANTS:
            with transaction.atomic():
                tenant = self._tenant(slug, name, currency, tz, locale, colour)
                for email, password, role in PEOPLE:
                    user = user_get_or_create(email=email, password=password)
                    membership_add(tenant=tenant, user=user, role=role)
                full_key = self._rotate_key(tenant)
            self._seed_apps(tenant, program_slug, with_data=with_data)
            lines.append(f"tenant={slug} program={program_slug} api_key={full_key}")
        # Process the sample events and fill the dashboards now, not at the first tick.
        periodic.run_all()
        return lines

    def _print(self, lines: list[str]) -> None:
        for line in lines:
            self.stdout.write(line)
        base = settings.PUBLIC_BASE_URL
        self.stdout.write("")
        self.stdout.write(f"Staff app:   {base}/app/   (login {base}/accounts/login/)")
        self.stdout.write(f"API docs:    {base}/api/v1/docs/   schema {base}/api/v1/schema/")
        for email, password, role in PEOPLE:
            self.stdout.write(f"Login ({role}): {email} / {password}")

    def _tenant(self, slug, name, currency, tz, locale, colour) -> Tenant:
        tenant = Tenant.objects.filter(slug=slug).first()
        if tenant is None:
            tenant = tenant_create(
                name=name,
                slug=slug,
                owner_email=PEOPLE[0][0],
                currency=currency,
                timezone=tz,
                default_locale=locale,
                owner_password=PEOPLE[0][1],
            )
        tenant.holidays, tenant.workdays, tenant.brand_colour = HOLIDAYS, WORKDAYS, colour
        tenant.save(update_fields=["holidays", "workdays", "brand_colour"])
        return tenant

    def _rotate_key(self, tenant: Tenant) -> str:
        live = ApiKey.objects.for_tenant(tenant).filter(name=DEMO_KEY_NAME, revoked_at=None)
        for key in live:
            api_key_revoke(key=key)
        return api_key_create(tenant=tenant, name=DEMO_KEY_NAME)[1]

    def _seed_apps(self, tenant: Tenant, program_slug: str, *, with_data: bool) -> None:
        with tenant_context(tenant):
            demo_programs_seed(tenant=tenant, slug=program_slug)
            if with_data:
                demo_data_seed(tenant=tenant)
