from django.core.management.base import BaseCommand

from referral_platform.tenancy.models import Tenant
from rewards.ledger import verify_ledger


class Command(BaseCommand):
    help = "Recompute every ledger account's hash chain; exit 1 if anything was altered."

    def add_arguments(self, parser):
        parser.add_argument("--tenant", help="a tenant slug; default all")

    def handle(self, *args, **options):
        tenant_id = None
        if options.get("tenant"):
            tenant_id = Tenant.objects.get(slug=options["tenant"]).pk
        problems = verify_ledger(tenant_id)
        for p in problems:
            self.stdout.write(f"{p.account} entry={p.entry_id}: {p.problem}")
        if problems:
            raise SystemExit(1)
        self.stdout.write("ledger ok")
