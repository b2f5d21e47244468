import json

from django.core.management.base import BaseCommand, CommandError

from programs import selectors
from referral_platform.core.errors import NotFound
from referral_platform.tenancy.models import Tenant


class Command(BaseCommand):
    help = "Print a program's whole configuration as one JSON document (the API's program spec)."

    def add_arguments(self, parser):
        parser.add_argument("tenant", help="tenant slug")
        parser.add_argument("slug", help="program slug")
        parser.add_argument("--output", "-o", help="write to this file instead of stdout")

    def handle(self, *args, tenant, slug, output=None, **options):
        tenant_row = Tenant.objects.filter(slug=tenant).first()
        if tenant_row is None:
            raise CommandError(f"No tenant {tenant!r}.")
        try:
            program = selectors.program_get(tenant_row, slug)
        except NotFound as exc:
            raise CommandError(f"No program {slug!r} in {tenant!r}.") from exc
        text = json.dumps(program.spec, indent=2, ensure_ascii=False, sort_keys=True) + "\n"
        if output:
            with open(output, "w", encoding="utf-8") as handle:
                handle.write(text)
        else:
            self.stdout.write(text, ending="")
