import json

from django.core.management.base import BaseCommand, CommandError

from programs import services
from programs.models import Program
from referral_platform.core.errors import DomainError
from referral_platform.tenancy.models import Tenant


class Command(BaseCommand):
    help = "Create a program from a spec file, or make a new version of the program with its slug."

    def add_arguments(self, parser):
        parser.add_argument("tenant", help="tenant slug")
        parser.add_argument("file", help="a program spec (JSON)")

    def handle(self, *args, tenant, file, **options):
        tenant_row = Tenant.objects.filter(slug=tenant).first()
        if tenant_row is None:
            raise CommandError(f"No tenant {tenant!r}.")
        try:
            with open(file, encoding="utf-8") as handle:
                spec = json.load(handle)
        except (OSError, ValueError) as exc:
            raise CommandError(f"Cannot read {file}: {exc}") from exc
        slug = spec.get("slug") if isinstance(spec, dict) else None
        existing = (
            Program.objects.for_tenant(tenant_row).filter(slug=slug).first() if slug else None
        )
        try:
            if existing is None:
                program = services.program_create(
                    tenant=tenant_row, spec=spec, actor=None, note="import"
                )
                self.stdout.write(f"created program={program.slug} version=1")
            else:
                version = services.program_update(
                    program=existing, spec=spec, actor=None, note="import"
                )
                self.stdout.write(f"updated program={existing.slug} version={version.number}")
        except DomainError as exc:
            lines = [f"{path}: {'; '.join(messages)}" for path, messages in exc.fields.items()]
            raise CommandError("\n".join([exc.message, *lines])) from exc
