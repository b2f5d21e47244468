"""Production settings for benchmark servers, plus a bare 302 view to compare against."""

from referral_platform.settings.production import *  # noqa: F403

ROOT_URLCONF = "bench._urls"
SECURE_SSL_REDIRECT = False
SECURE_HSTS_SECONDS = 0
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "root": {"handlers": [], "level": "WARNING"},
}
