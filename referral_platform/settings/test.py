"""Tests: the same settings, fast hashing, in-process jobs unless a test starts a worker."""

from .base import *  # noqa: F403
from .base import REST_FRAMEWORK, STORAGES, env

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CELERY_TASK_ALWAYS_EAGER = True
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
REST_FRAMEWORK = {**REST_FRAMEWORK}
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] = {"api_key": env("API_RATE_LIMIT", default="100000/min")}
WHITENOISE_AUTOREFRESH = True
STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Connectors' provider APIs: tests that talk to them start a local fake and point here at it;
# every other test reaches a closed local port, never the internet.
CONNECTORS_STRIPE_API_BASE = "http://127.0.0.1:9"
CONNECTORS_PAYPAL_API_BASE = "http://127.0.0.1:9"
CONNECTORS_HUBSPOT_API_BASE = "http://127.0.0.1:9"
