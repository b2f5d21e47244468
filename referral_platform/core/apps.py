from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "referral_platform.core"
    label = "core"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Importing each app's `periodic` module registers its jobs with `tick`.
        from django.utils.module_loading import autodiscover_modules

        autodiscover_modules("periodic")
