"""A Django handler with a shorter middleware list, for paths that need none of the rest.

Django builds its middleware chain once per handler from `settings.MIDDLEWARE`; a second
handler built from `settings.LEAN_MIDDLEWARE` serves the paths in `settings.LEAN_PATHS`
with the same URLconf, views and signals (database connections are still closed per request),
except for the requests its `from_memory` check says use no connection at all.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler, get_script_name
from django.urls import set_script_prefix


class LeanWSGIHandler(WSGIHandler):
    """`from_memory(environ)`, if given, is asked about each request: True promises that the
    view answers it from this process's memory alone, touching no database, cache or other
    connection. Such a request skips Django's `request_started` and `request_finished`
    signals, whose receivers only reset and close those connections around a request (about
    100 µs in process, a quarter of the redirect's time); its middleware, URL resolution,
    error handling and response are Django's as for any other request."""

    def __init__(self, from_memory: Callable[[dict], bool] | None = None) -> None:
        self.from_memory = from_memory
        super().__init__()

    def load_middleware(self, is_async: bool = False) -> None:
        # BaseHandler reads settings.MIDDLEWARE while it builds the chain; it is swapped only
        # for that moment, at start-up, before any request thread exists.
        full = settings.MIDDLEWARE
        settings.MIDDLEWARE = settings.LEAN_MIDDLEWARE
        try:
            super().load_middleware(is_async)
        finally:
            settings.MIDDLEWARE = full

    def __call__(self, environ, start_response):
        if self.from_memory is None or not self.from_memory(environ):
            return super().__call__(environ, start_response)
        # WSGIHandler.__call__ without the two signals.
        set_script_prefix(get_script_name(environ))
        response = self.get_response(self.request_class(environ))
        start_response(
            f"{response.status_code} {response.reason_phrase}",
            [
                *response.items(),
                *(("Set-Cookie", c.output(header="")) for c in response.cookies.values()),
            ],
        )
        # The body, not the response: the server would call response.close(), which sends
        # request_finished (the answer holds no file or stream to close).
        return [response.content]


def dispatch(*, lean, full):
    """A WSGI app sending `settings.LEAN_PATHS` (prefixes) to `lean`, everything else to `full`."""
    prefixes = tuple(settings.LEAN_PATHS)

    def application(environ, start_response):
        if environ.get("PATH_INFO", "").startswith(prefixes):
            return lean(environ, start_response)
        return full(environ, start_response)

    return application
