from django.apps import AppConfig


class TenancyConfig(AppConfig):
    name = "referral_platform.tenancy"
    label = "tenancy"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import schema  # noqa: F401 - registers the OpenAPI auth extension
