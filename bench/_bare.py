"""The ceiling: a separate, bare Django project. One URL, one view answering 302; no apps,
no middleware, no database, no templates. The redirect benchmark serves it with the same
gunicorn settings as the product, so the ratio is the cost of everything the product adds.

    DJANGO_SETTINGS_MODULE=bench._bare gunicorn bench._bare:application
"""

import os

from django.http import HttpResponseRedirect
from django.urls import path

SECRET_KEY = "bare-bench-secret-key-0123456789abcdefghijklmnopqrstuvwxyz"  # noqa: S105 - throwaway
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
ROOT_URLCONF = __name__
INSTALLED_APPS: list[str] = []
MIDDLEWARE: list[str] = []
DATABASES: dict = {}
USE_TZ = True


def bare_redirect(request, code: str):
    return HttpResponseRedirect(f"/i/{code}")


urlpatterns = [path("r/<str:code>", bare_redirect)]

if os.environ.get("DJANGO_SETTINGS_MODULE") == __name__:
    from django.core.wsgi import get_wsgi_application

    application = get_wsgi_application()
