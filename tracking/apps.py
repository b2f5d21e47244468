from django.apps import AppConfig


class TrackingConfig(AppConfig):
    name = "tracking"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # A new program version reaches the redirect's cached code entries at once
        # (`referral_platform.core.ports`: programs may not import tracking).
        from programs import services as programs_services

        from .services.codes import program_codes_forget

        programs_services.program_changed.install(program_codes_forget)
