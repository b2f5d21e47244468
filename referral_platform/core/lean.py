"""A Django handler with a shorter middleware list, for paths that need none of the rest.

Django builds its middleware chain once per handler from `settings.MIDDLEWARE`; a second
handler built from `settings.LEAN_MIDDLEWARE` serves the paths in `settings.LEAN_PATHS`
with the same URLconf, views and signals (database connections are still closed per request).
"""

from __future__ import annotations

from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler


class LeanWSGIHandler(WSGIHandler):
    def load_middleware(self, is_async: bool = False) -> None:
        # BaseHandler reads settings.MIDDLEWARE while it builds the chain; it is swapped only
        # for that moment, at start-up, before any request thread exists.
        full = settings.MIDDLEWARE
        settings.MIDDLEWARE = settings.LEAN_MIDDLEWARE
        try:
            super().load_middleware(is_async)
        finally:
            settings.MIDDLEWARE = full


def dispatch(*, lean, full):
    """A WSGI app sending `settings.LEAN_PATHS` (prefixes) to `lean`, everything else to `full`."""
    prefixes = tuple(settings.LEAN_PATHS)

    def application(environ, start_response):
        if environ.get("PATH_INFO", "").startswith(prefixes):
            return lean(environ, start_response)
        return full(environ, start_response)

    return application
