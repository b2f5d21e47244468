from django.apps import AppConfig


class TenancyConfig(AppConfig):
    name = "referral_platform.tenancy"
    label = "tenancy"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from . import schema  # noqa: F401 - registers the OpenAPI auth extension
        from .models import ApiKey, Tenant

        # Cache coherence, not a domain flow: a revoked key or an edited tenant must not be
        # served from this process's key cache (services.api_key_authenticate).
        for model in (ApiKey, Tenant):
            for signal in (post_save, post_delete):
                signal.connect(_forget_keys, sender=model, dispatch_uid=f"forget-keys-{model}")


def _forget_keys(**kwargs) -> None:
    from .services import api_key_cache_forget

    api_key_cache_forget()
