from django.core.management.base import BaseCommand, CommandError

from analytics.rollups import rollups_rebuild
from referral_platform.tenancy.models import Tenant


class Command(BaseCommand):
    help = "Recompute every analytics rollup from the raw rows (one tenant, or all)."

    def add_arguments(self, parser):
        parser.add_argument("--tenant", help="the tenant's slug (default: every tenant)")

    def handle(self, *args, **options):
        tenants = Tenant.objects.order_by("pk")
        if options["tenant"]:
            tenants = tenants.filter(slug=options["tenant"])
            if not tenants.exists():
                raise CommandError(f"no tenant {options['tenant']!r}")
        for tenant in tenants:
            result = rollups_rebuild(tenant=tenant)
            self.stdout.write(
                f"tenant={tenant.slug} rows={result['rows']} customers={result['customers']}"
            )
