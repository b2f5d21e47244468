"""GET /api/v1/analytics/funnel, /kpis, /referrers and /incrementality (API.md): validate, one
selector, serialize."""

from __future__ import annotations

from decimal import Decimal

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response

from referral_platform.core.errors import ValidationFailed
from referral_platform.tenancy.api import TenantAPIView

from .. import selectors
from ..kpis import funnel_steps
from ..referrer_measures import referrer_measures
from .serializers import AnalyticsQuery, FunnelOut, KpisOut, ReferrerMeasuresOut


def _program_param(*, required: bool) -> OpenApiParameter:
    return OpenApiParameter(
        "program",
        OpenApiTypes.STR,
        required=required,
        description="program slug" if required else "program slug (all when absent)",
        pattern=r"^[-a-zA-Z0-9_]+$",
    )


_FILTERS = [
    OpenApiParameter(
        "from", OpenApiTypes.DATE, required=True, description="tenant-local, inclusive"
    ),
    OpenApiParameter("to", OpenApiTypes.DATE, required=True, description="tenant-local, inclusive"),
    OpenApiParameter("channel", OpenApiTypes.STR),
    OpenApiParameter("region", OpenApiTypes.STR),
    OpenApiParameter("segment", OpenApiTypes.STR),
]
_PARAMS = [_program_param(required=False), *_FILTERS]
# The holdout is a program's: the same filters with the program named.
_PROGRAM_PARAMS = [_program_param(required=True), *_FILTERS]


def plain(value):
    """Decimals as JSON numbers (ratios to 4 places), recursively."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def filters_from(request) -> selectors.Filters:
    query = AnalyticsQuery(data=request.query_params)
    query.is_valid(raise_exception=True)
    data = query.validated_data
    program = None
    if data.get("program"):
        program = selectors.program_get(tenant=request.tenant, slug=data["program"])
    return selectors.Filters(
        start=data["from"],
        end=data["to"],
        program=program,
        channel=data.get("channel", ""),
        region=data.get("region", ""),
        segment=data.get("segment", ""),
    )


def _head(filters: selectors.Filters) -> dict:
    return {
        "program": filters.program.slug if filters.program else None,
        "from": filters.start.isoformat(),
        "to": filters.end.isoformat(),
    }


class FunnelView(TenantAPIView):
    @extend_schema(parameters=_PARAMS, responses={200: FunnelOut})
    def get(self, request):
        filters = filters_from(request)
        counts = selectors.funnel_counts(tenant=request.tenant, filters=filters)
        steps = funnel_steps(counts)
        rates = {s["step"]: s["rate_from_previous"] for s in steps[1:]}
        # What the dashboard draws: each step against its base, a share (≤ 1) or a count
        # per unit of the base.
        drawn = [
            {k: s[k] for k in ("step", "count", "base", "conversion", "per_base")} for s in steps
        ]
        return Response(
            {**_head(filters), **counts.as_dict(), "rates": plain(rates), "steps": plain(drawn)}
        )


class KpisView(TenantAPIView):
    @extend_schema(parameters=_PARAMS, responses={200: KpisOut})
    def get(self, request):
        filters = filters_from(request)
        kpis = selectors.kpis_get(tenant=request.tenant, filters=filters)
        return Response({**_head(filters), **plain(kpis)})


class ReferrerMeasuresView(TenantAPIView):
    """Referrers vs comparable non-referrers, referred vs non-referred customers (30/90-day
    retention, 60-day repurchase, 365-day LTV; null while not yet known) and satisfaction
    (average of each person's latest `activity.properties.nps`)."""

    @extend_schema(parameters=_PARAMS, responses={200: ReferrerMeasuresOut})
    def get(self, request):
        filters = filters_from(request)
        measures = referrer_measures(tenant=request.tenant, filters=filters)
        return Response({**_head(filters), **plain(measures)})


class IncrementalityView(TenantAPIView):
    """The program's holdout read (SEMANTICS §10): treated against held-out members, revenue
    (purchases − refunds, money in minor units) and referred customers per member, each
    difference with its 95 % confidence interval and `tell` (false: sample too small to
    tell). `holdout` is null when the program holds nobody out; `program` is required."""

    @extend_schema(parameters=_PROGRAM_PARAMS, responses={200: dict})
    def get(self, request):
        filters = filters_from(request)
        if filters.program is None:
            raise ValidationFailed(
                "Name the program.", fields={"program": ["This field is required."]}
            )
        report = selectors.holdout_report(
            tenant=request.tenant, program=filters.program, filters=filters
        )
        return Response({**_head(filters), "holdout": report})
