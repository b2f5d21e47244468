from django.apps import AppConfig


class PipelineConfig(AppConfig):
    name = "pipeline"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Event ingest (tracking) enqueues the flow's task, which it may not import
        # (`referral_platform.core.ports`).
        from tracking.services import events

        from .tasks import events_process_task

        events.events_process_task.install(events_process_task)
