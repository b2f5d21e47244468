from django.core.management.base import BaseCommand

from referral_platform.core.periodic import jobs


class Command(BaseCommand):
    help = "Run every periodic job once and print what each did."

    def handle(self, *args, **options):
        for name, func in jobs():
            result = func()
            self.stdout.write(f"{name}: {result}")
