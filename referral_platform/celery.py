import os

from celery import Celery
from celery.signals import task_postrun, task_prerun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "referral_platform.settings.local")

app = Celery("referral_platform")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@task_prerun.connect
@task_postrun.connect
def connections_as_a_request(sender=None, **_kwargs) -> None:
    """Before and after a task, the database connections are treated as before and after a
    request: kept until CONN_MAX_AGE, closed when unusable, health-checked when next used.
    Celery's own fixup only closes them every CELERY_DB_REUSE_MAX tasks. Not for a task run
    eagerly: it runs inside its caller, whose transaction may be open."""
    if getattr(getattr(sender, "request", None), "is_eager", False):
        return
    from django.db import close_old_connections

    close_old_connections()
