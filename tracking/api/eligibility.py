"""`/programs/{slug}/eligibility`: whether participants may refer now (the referrer-side rules
of the program), for prompting at the right moment. Tracking's: it reads its participants and
asks the program's rules (programs.engine)."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from referral_platform.core.api.views import TenantAPIView
from referral_platform.core.errors import NotFound, ValidationFailed

from .. import rules, selectors

MAX_ELIGIBILITY_BATCH = 1000


class EligibilityInput(serializers.Serializer):
    participants = serializers.ListField(
        child=serializers.CharField(max_length=200), min_length=1, max_length=MAX_ELIGIBILITY_BATCH
    )


class EligibilityView(TenantAPIView):
    """Whether participants may refer now (referrer-side rules), for prompting at the right moment."""

    @extend_schema(
        parameters=[OpenApiParameter("participant", str, required=True, description="external_id")],
        responses=OpenApiTypes.OBJECT,
    )
    def get(self, request, slug: str):
        program = rules.program_get(request.tenant, slug)
        external_id = request.query_params.get("participant")
        if not external_id:
            raise ValidationFailed(
                _("Some fields are invalid."),
                fields={"participant": [_("This field is required.")]},
            )
        results = selectors.participants_eligibility(program=program, external_ids=[external_id])
        if results[0].get("error"):
            raise NotFound(_("No such participant."))
        return Response(results[0])

    @extend_schema(request=EligibilityInput, responses=OpenApiTypes.OBJECT)
    def post(self, request, slug: str):
        program = rules.program_get(request.tenant, slug)
        data = {"participants": request.data} if isinstance(request.data, list) else request.data
        serializer = EligibilityInput(data=data)
        serializer.is_valid(raise_exception=True)
        return Response(
            {
                "results": selectors.participants_eligibility(
                    program=program, external_ids=serializer.validated_data["participants"]
                )
            }
        )
