"""Reads of the API that compose several apps: validate → one selector → serialize."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from referral_platform.core.api.views import TenantAPIView
from tracking import selectors as tracking_selectors
from tracking.api.serializers import referral_data

from . import selectors


class ReferralDetail(TenantAPIView):
    @extend_schema(responses={200: dict})
    def get(self, request, referral_id: str):
        referral = tracking_selectors.referral_get(tenant=request.tenant, referral_id=referral_id)
        return Response(referral_data(referral, detail=True, **selectors.referral_story(referral)))
