from django.apps import AppConfig


class BackofficeConfig(AppConfig):
    """Staff pages and reads that compose several apps (tracking, fraud, rewards): the read
    side above the flow (`pipeline`), beside the portal and analytics."""

    name = "backoffice"
    default_auto_field = "django.db.models.BigAutoField"
