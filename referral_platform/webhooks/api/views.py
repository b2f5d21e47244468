from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response

from referral_platform.core.api.idempotency import idempotent
from referral_platform.tenancy.api import TenantAPIView

from ..models import WebhookEndpoint
from ..services import webhook_endpoint_create
from .serializers import EndpointCreated, EndpointInput, EndpointOutput


class WebhookEndpointListCreate(TenantAPIView):
    @extend_schema(request=EndpointInput, responses={201: EndpointCreated})
    @idempotent
    def post(self, request):
        data = EndpointInput(data=request.data)
        data.is_valid(raise_exception=True)
        endpoint = webhook_endpoint_create(tenant=request.tenant, actor=None, **data.validated_data)
        return Response(
            {"id": endpoint.pk, "secret": endpoint.secret}, status=status.HTTP_201_CREATED
        )

    @extend_schema(responses={200: EndpointOutput(many=True)})
    def get(self, request):
        endpoints = WebhookEndpoint.objects.for_tenant(request.tenant).order_by("id")
        return Response({"results": EndpointOutput(endpoints, many=True).data, "next": None})
