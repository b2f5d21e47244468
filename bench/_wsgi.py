"""The production WSGI entry point (with its lean redirect handler) on the bench settings."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench._settings")

from referral_platform.wsgi import application  # noqa: E402, F401
