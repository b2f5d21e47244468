import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "referral_platform.settings.local")

app = Celery("referral_platform")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
