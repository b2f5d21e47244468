from django.apps import AppConfig


class BackofficeConfig(AppConfig):
    """Staff pages and reads that compose several apps (tracking, fraud, rewards): the read
    side above the flow (`pipeline`), beside the portal and analytics."""

    name = "backoffice"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The figures the builder's pages show from the apps above programs
        # (`programs.readside`, `referral_platform.core.ports`).
        from programs import readside
        from tracking import selectors as tracking_selectors

        from . import selectors

        readside.headline_numbers.install(tracking_selectors.programs_headline_numbers)
        readside.in_flight.install(selectors.program_in_flight)
