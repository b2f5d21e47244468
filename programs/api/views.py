"""Programs API: the spec document in and out, and its JSON Schema. (Eligibility, which reads
participants, is tracking's: `tracking.api.eligibility`.)"""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from referral_platform.core.api.idempotency import idempotent
from referral_platform.core.api.pagination import CursorPagination
from referral_platform.core.api.views import TenantAPIView
from referral_platform.core.errors import ValidationFailed

from .. import selectors, services
from ..spec import SCHEMA


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
