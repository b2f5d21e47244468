"""The base of every tenant API view: the tenant comes from the API key, never the request."""

import logging

from django.utils.translation import gettext as _
from redis.exceptions import RedisError
from rest_framework.views import APIView

from referral_platform.core.errors import NotFound, ValidationFailed

from .inputcheck import json_problems, shown_key, text_problem

logger = logging.getLogger(__name__)


class TenantAPIView(APIView):
    """`request.tenant` is set by ApiKeyAuthentication; querysets use `.for_tenant(request.tenant)`
    or the active tenant context that authentication also sets.

    Before the handler runs, everything the client wrote is checked for what PostgreSQL
    cannot store (`inputcheck`): a path parameter that cannot exist is a 404, a bad query
    parameter, header or body value a 422 naming it. A view that answers per item
    (`/events/batch`) names its list in `items_checked_by_view` and checks each item itself.
    """

    items_checked_by_view: frozenset = frozenset()

    def check_throttles(self, request):
        # The rate-limit counters live in Redis (the cache). While it is down, refusing the
        # tenants' calls would turn away events the database can still store and the sweeper
        # will process: let them through uncounted.
        try:
            super().check_throttles(request)
        except RedisError as exc:
            logger.warning("rate-limit counters unreachable, request let through: %s", exc)

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        for value in kwargs.values():
            if isinstance(value, str) and text_problem(value):
                raise NotFound(_("Not found."))
        problems = {}
        for name, values in request.query_params.lists():
            for value in [name, *values]:
                problem = text_problem(value)
                if problem:
                    problems.setdefault(shown_key(name), []).append(problem)
        key = request.headers.get("Idempotency-Key")
        if key and text_problem(key):
            problems["Idempotency-Key"] = [text_problem(key)]
        if request.method in ("POST", "PUT", "PATCH"):
            data = request.data
            # The parser notes a body that cannot hold a problem (most): no walk then.
            if getattr(request, "input_suspect", True):
                problems.update(json_problems(data, skip=self.items_checked_by_view))
        if problems:
            raise ValidationFailed(_("Some fields are invalid."), fields=problems)
