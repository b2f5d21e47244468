"""Programs API: the spec document in and out, its JSON Schema, and eligibility checks."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from referral_platform.core import clock
from referral_platform.core.api.idempotency import idempotent
from referral_platform.core.api.pagination import CursorPagination
from referral_platform.core.api.views import TenantAPIView
from referral_platform.core.errors import NotFound, ValidationFailed

from .. import engine, selectors, services
from ..spec import SCHEMA

MAX_ELIGIBILITY_BATCH = 1000


class ProgramSummarySerializer(serializers.Serializer):
    slug = serializers.CharField()
    name = serializers.CharField()
    status = serializers.CharField()
    currency = serializers.CharField()
    starts_at = serializers.DateTimeField(allow_null=True)
    ends_at = serializers.DateTimeField(allow_null=True)
    landing_url = serializers.CharField()
    version = serializers.IntegerField(source="current_version.number", allow_null=True)
    updated_at = serializers.DateTimeField()


def _spec_body(request) -> dict:
    if not isinstance(request.data, dict):
        raise ValidationFailed(
            _("The program spec has problems."),
            fields={"non_field_errors": [_("A program spec must be a JSON object.")]},
        )
    return request.data


class ProgramListView(TenantAPIView):
    @extend_schema(responses=ProgramSummarySerializer(many=True), summary="The tenant's programs")
    def get(self, request):
        paginator = CursorPagination()
        page = paginator.paginate_queryset(
            selectors.program_list(request.tenant).order_by("-id"), request, view=self
        )
        return paginator.get_paginated_response(ProgramSummarySerializer(page, many=True).data)

    @extend_schema(
        request=OpenApiTypes.OBJECT,
        responses={201: OpenApiTypes.OBJECT},
        summary="Create a program from a spec",
    )
    @idempotent
    def post(self, request):
        program = services.program_create(
            tenant=request.tenant, spec=_spec_body(request), actor=request.user
        )
        return Response(program.spec, status=status.HTTP_201_CREATED)


class ProgramDetailView(TenantAPIView):
    @extend_schema(responses=OpenApiTypes.OBJECT, summary="A program's full spec")
    def get(self, request, slug: str):
        return Response(selectors.program_get(request.tenant, slug).spec)

    @extend_schema(
        request=OpenApiTypes.OBJECT,
        responses=OpenApiTypes.OBJECT,
        summary="Replace the spec: a new version",
    )
    def put(self, request, slug: str):
        program = selectors.program_get(request.tenant, slug)
        version = services.program_update(
            program=program, spec=_spec_body(request), actor=request.user
        )
        return Response(version.spec, headers={"X-Program-Version": str(version.number)})


class SpecSchemaView(TenantAPIView):
    @extend_schema(responses=OpenApiTypes.OBJECT, summary="The JSON Schema of a program spec")
    def get(self, request):
        return Response(SCHEMA)


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
        program = selectors.program_get(request.tenant, slug)
        external_id = request.query_params.get("participant")
        if not external_id:
            raise ValidationFailed(
                _("Some fields are invalid."),
                fields={"participant": [_("This field is required.")]},
            )
        results = _eligibility(program, [external_id])
        if results[0].get("error"):
            raise NotFound(_("No such participant."))
        return Response(results[0])

    @extend_schema(request=EligibilityInput, responses=OpenApiTypes.OBJECT)
    def post(self, request, slug: str):
        program = selectors.program_get(request.tenant, slug)
        data = {"participants": request.data} if isinstance(request.data, list) else request.data
        serializer = EligibilityInput(data=data)
        serializer.is_valid(raise_exception=True)
        return Response(
            {"results": _eligibility(program, serializer.validated_data["participants"])}
        )


def _eligibility(program, external_ids: list[str]) -> list[dict]:
    from tracking.models import Participant

    rows = Participant.objects.for_tenant(program.tenant_id).filter(
        external_id__in=set(external_ids)
    )
    found = {p.external_id: p for p in rows.only("id", "external_id", "attributes", "segments")}
    spec, now, out = program.spec, clock.now(), []
    for external_id in external_ids:
        participant = found.get(external_id)
        if participant is None:
            out.append(
                {"participant": external_id, "eligible": False, "reasons": [], "error": "not_found"}
            )
            continue
        fact = engine.ParticipantFact(
            id=participant.pk,
            attributes=participant.attributes or {},
            segments=tuple(participant.segments or ()),
        )
        reasons = engine.eligibility(spec, fact, "referrer", now)
        out.append({"participant": external_id, "eligible": not reasons, "reasons": reasons})
    return out
