"""The base of every tenant API view: the tenant comes from the API key, never the request."""

import logging

from redis.exceptions import RedisError
from rest_framework.views import APIView

logger = logging.getLogger(__name__)


class TenantAPIView(APIView):
    """`request.tenant` is set by ApiKeyAuthentication; querysets use `.for_tenant(request.tenant)`
    or the active tenant context that authentication also sets."""

    def check_throttles(self, request):
        # The rate-limit counters live in Redis (the cache). While it is down, refusing the
        # tenants' calls would turn away events the database can still store and the sweeper
        # will process: let them through uncounted.
        try:
            super().check_throttles(request)
        except RedisError as exc:
            logger.warning("rate-limit counters unreachable, request let through: %s", exc)
