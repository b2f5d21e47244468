"""The flow's API: `POST /claims` runs the same flow as an event (pipeline.flow)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response

from programs.selectors import program_get
from referral_platform.core.api.idempotency import idempotent
from referral_platform.core.api.views import TenantAPIView
from tracking.api.serializers import ClaimInput

from . import flow


class ClaimCreate(TenantAPIView):
    @extend_schema(request=ClaimInput, responses={202: dict})
    @idempotent
    def post(self, request):
        data = ClaimInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        program = program_get(request.tenant, values["program"])
        claim = flow.claim_process(
            tenant=request.tenant,
            program=program,
            referee_external_id=values["referee"],
            referrer_code=values.get("referrer_code", ""),
            referrer_phone=values.get("referrer_phone", ""),
            referrer_email=values.get("referrer_email", ""),
        )
        return Response(
            {"id": claim.pk, "status": claim.status, "referral": claim.referral_id},
            status=status.HTTP_202_ACCEPTED,
        )
