from django.core.management.base import BaseCommand

from referral_platform.core.periodic import job_run, jobs


class Command(BaseCommand):
    help = "Run every periodic job once, in the table's order, and print what each did."

    def handle(self, *args, **options):
        for name, func in jobs():
            result = job_run(name, func)
            self.stdout.write(f"{name}: {result}")
