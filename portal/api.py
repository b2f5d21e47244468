"""`POST /api/v1/portal-sessions`: the tenant's backend asks for a link into the portal."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from referral_platform.core.api.idempotency import idempotent
from referral_platform.core.api.views import TenantAPIView

from .services import portal_session_create


class PortalSessionCreateApi(TenantAPIView):
    class InputSerializer(serializers.Serializer):
        participant = serializers.CharField(
            max_length=200, help_text="The participant's external_id."
        )
        return_url = serializers.URLField(
            max_length=2000, required=False, allow_blank=True, default="",
            help_text="Where the portal's back link and an expired link send the customer.",
        )  # fmt: skip

    class OutputSerializer(serializers.Serializer):
        url = serializers.CharField(
            help_text="Open within `expires_at`; works for that participant only."
        )
        expires_at = serializers.DateTimeField()
        held_out = serializers.BooleanField(
            help_text="Every program this customer is in holds them out (SEMANTICS §10): "
            "leave out the widget (or pass this as the widget's data-held-out), which then "
            "draws nothing; the link itself opens the portal's non-program page."
        )

    @extend_schema(
        operation_id="portal_sessions_create",
        request=InputSerializer,
        responses={201: OutputSerializer},
        summary="A signed, short-lived link into the customer's portal",
    )
    @idempotent
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        session = portal_session_create(
            tenant=request.tenant,
            external_id=data.validated_data["participant"],
            return_url=data.validated_data["return_url"],
        )
        return Response(self.OutputSerializer(session).data, status=status.HTTP_201_CREATED)
