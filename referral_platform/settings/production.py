"""The production shape: PostgreSQL, Redis, gunicorn, celery worker and beat.

Passes `manage.py check --deploy` with no warnings (see core/tests/test_deploy.py).
"""

from .base import *  # noqa: F403
from .base import env

DEBUG = False
# No default: production refuses to start without its own secrets.
SECRET_KEY = env("SECRET_KEY")
IDENTITY_HMAC_KEY = env("IDENTITY_HMAC_KEY", default=SECRET_KEY)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS")
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^metrics$"]
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
# Clicks are buffered in Redis and written in bulk by the tracking.flush_clicks job: the
# redirect then makes no database write at all. TRACKING_CLICK_BUFFER_URL= (empty) turns it off.
TRACKING_CLICK_BUFFER_URL = env("TRACKING_CLICK_BUFFER_URL", default=env("REDIS_URL", default=""))
ACCOUNT_EMAIL_VERIFICATION = env("ACCOUNT_EMAIL_VERIFICATION", default="mandatory")
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "https"
EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.smtp.EmailBackend")
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="smtp://localhost:25")
vars().update(EMAIL_CONFIG)
