"""The WSGI entry point. The public redirect `/r/<code>` is the hottest path in the system
(DESIGN: one cached lookup and one cheap write), so it is served by a second Django handler
built with `LEAN_MIDDLEWARE` only: no sessions, auth, CSRF, messages, locale, CSP or htmx,
none of which a 302 uses. A redirect whose code and click need no connection (the code's
lookup held in this process, the click buffered) also skips Django's request signals (see
core/lean.py). Every other path goes through the full stack."""

import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "referral_platform.settings.production")

full_application = get_wsgi_application()

from referral_platform.core.lean import LeanWSGIHandler, dispatch  # noqa: E402 - after setup
from tracking.public import redirect_from_memory  # noqa: E402 - after setup

lean_application = LeanWSGIHandler(from_memory=redirect_from_memory)
application = dispatch(lean=lean_application, full=full_application)

# Everything loaded so far (Django, the apps, their modules) lives as long as the process:
# out of the collector's reach, a full collection no longer walks it. Its pause, which every
# request in flight waits out, fell from 74 to 18 ms (docs/benchmarks.md).
gc.freeze()
