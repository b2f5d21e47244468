from django.core.management.base import BaseCommand, CommandError

from referral_platform.core.errors import DomainError
from referral_platform.tenancy.services import api_key_create, tenant_create


class Command(BaseCommand):
    help = "Create a tenant and its owner; prints `api_key=<key>` once (only a hash is stored)."

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True)
        parser.add_argument("--slug", required=True)
        parser.add_argument("--owner-email", required=True)
        parser.add_argument("--currency", default="CNY")
        parser.add_argument("--timezone", default="UTC")
        parser.add_argument("--locale", default="en")

    def handle(self, *args, **opts):
        try:
            tenant = tenant_create(
                name=opts["name"],
                slug=opts["slug"],
                owner_email=opts["owner_email"],
                currency=opts["currency"],
                timezone=opts["timezone"],
                default_locale=opts["locale"],
            )
        except DomainError as exc:
            raise CommandError(f"{exc.message} {exc.fields or ''}".strip()) from exc
        _, full_key = api_key_create(tenant=tenant, name="default")
        self.stdout.write(f"api_key={full_key}")
