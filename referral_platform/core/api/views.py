"""The base of every tenant API view: the tenant comes from the API key, never the request."""

from rest_framework.views import APIView


class TenantAPIView(APIView):
    """`request.tenant` is set by ApiKeyAuthentication; querysets use `.for_tenant(request.tenant)`
    or the active tenant context that authentication also sets."""
