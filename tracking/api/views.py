"""The tracking API: validate → one service → serialize."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from programs.holdout import in_holdout
from programs.pause import enrollment_reasons
from referral_platform.core.api.errors import error_response, flatten_fields
from referral_platform.core.api.idempotency import idempotent
from referral_platform.core.api.inputcheck import json_problems
from referral_platform.core.api.pagination import CursorPagination
from referral_platform.core.api.views import TenantAPIView

from .. import rules, selectors, services
from ..models import Enrollment, ReferralCode
from .serializers import (
    EnrollmentInput,
    EventBatchInput,
    EventBatchSchema,
    EventInput,
    EventQrInput,
    ParticipantInput,
    ReferralFilter,
    event_validate,
    participant_data,
    referral_data,
)


def _enrollments(tenant, participant) -> list[dict]:
    rows = (
        Enrollment.objects.for_tenant(tenant)
        .filter(participant=participant)
        .select_related("program")
    )
    codes = {}
    for code in (
        ReferralCode.objects.for_tenant(tenant)
        .filter(enrollment__participant=participant, rotated_at__isnull=True)
        .order_by("created_at")
    ):
        codes.setdefault(code.enrollment_id, code.code)
    out = []
    for e in rows:
        code = codes.get(e.pk, "")
        out.append(
            {
                "program": e.program.slug,
                "code": code,
                **(services.code_links(code) if code else {}),
                "eligible": e.eligible,
                "ineligible_reasons": e.ineligible_reasons,
            }
        )
    return out


class ParticipantUpsert(TenantAPIView):
    @extend_schema(request=ParticipantInput, responses={200: dict, 201: dict})
    @idempotent
    def post(self, request):
        data = ParticipantInput(data=request.data)
        data.is_valid(raise_exception=True)
        participant, created = services.participant_upsert(
            tenant=request.tenant, **data.validated_data
        )
        body = participant_data(participant, _enrollments(request.tenant, participant))
        return Response(body, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class ParticipantDetail(TenantAPIView):
    @extend_schema(responses={200: dict})
    def get(self, request, external_id: str):
        participant = services.participant_get(tenant=request.tenant, external_id=external_id)
        return Response(participant_data(participant, _enrollments(request.tenant, participant)))


class EnrollmentCreate(TenantAPIView):
    @extend_schema(request=EnrollmentInput, responses={200: dict, 201: dict})
    @idempotent
    def post(self, request, program_slug: str):
        data = EnrollmentInput(data=request.data)
        data.is_valid(raise_exception=True)
        program = rules.program_get(request.tenant, program_slug)
        participant = services.participant_get(
            tenant=request.tenant, external_id=data.validated_data["participant"]
        )
        enrollment, code, created = services.enrollment_create(
            tenant=request.tenant,
            program=program,
            participant=participant,
            vanity_code=data.validated_data.get("code", ""),
        )
        # A paused program answers every enrolment `program_paused` (programs.pause).
        reasons = enrollment_reasons(program.status, enrollment.ineligible_reasons or [])
        body = {
            "code": code.code,
            **services.code_links(code.code),
            "eligible": not reasons,
            "ineligible_reasons": reasons,
            "held_out": False,
        }
        if in_holdout(program, participant.pk):
            # The program's holdout (SEMANTICS §10): enrolled to be measured, but no link,
            # code, QR code or poster to share.
            body = {**dict.fromkeys(body, None), **{k: body[k] for k in ("eligible",
                    "ineligible_reasons")}, "held_out": True}  # fmt: skip
        return Response(body, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


def _event_payload(request_data) -> dict:
    return request_data if isinstance(request_data, dict) else {}


class EventCreate(TenantAPIView):
    @extend_schema(
        request=EventInput,
        responses={202: dict, 200: dict, 409: OpenApiResponse(description="event_id_conflict")},
    )
    @idempotent
    def post(self, request):
        event, created = services.event_ingest(
            tenant=request.tenant,
            data=event_validate(request.data),
            payload=_event_payload(request.data),
        )
        return Response(
            services.event_answer(event),
            status=status.HTTP_202_ACCEPTED if created else status.HTTP_200_OK,
        )


class EventBatch(TenantAPIView):
    items_checked_by_view = frozenset({"events"})

    @extend_schema(request=EventBatchSchema, responses={202: dict, 422: dict})
    @idempotent
    def post(self, request):
        envelope = EventBatchInput(data=request.data)
        envelope.is_valid(raise_exception=True)
        results: dict[int, dict] = {}
        valid = []
        suspect = getattr(request, "input_suspect", True)
        for index, raw in enumerate(envelope.validated_data["events"]):
            problems = json_problems(raw) if suspect else {}
            if problems:
                results[index] = {"index": index, "status": "invalid", "fields": problems}
                continue
            try:
                valid.append((index, event_validate(raw), raw))
            except serializers.ValidationError as exc:
                results[index] = {
                    "index": index,
                    "status": "invalid",
                    "fields": flatten_fields(exc.detail),
                }
        if not valid:
            fields = {}
            for index, result in results.items():
                for path, messages in result["fields"].items():
                    fields[f"events[{index}].{path}"] = messages
            return error_response(
                "validation_failed",
                "No event in the batch is valid.",
                status.HTTP_422_UNPROCESSABLE_ENTITY,
                fields,
            )
        results.update(services.event_ingest_batch(tenant=request.tenant, items=valid))
        return Response(
            {"results": [results[i] for i in sorted(results)]}, status=status.HTTP_202_ACCEPTED
        )


class ReferralList(TenantAPIView):
    @extend_schema(
        operation_id="referrals_list", parameters=[ReferralFilter], responses={200: dict}
    )
    def get(self, request):
        filters = ReferralFilter(data=request.query_params)
        filters.is_valid(raise_exception=True)
        qs = selectors.referral_list(tenant=request.tenant, filters=filters.validated_data)
        paginator = CursorPagination()
        page = paginator.paginate_queryset(qs, request, view=self)
        return paginator.get_paginated_response([referral_data(r) for r in page])


__all__ = ["serializers"]


class EventQrCreate(TenantAPIView):
    """A per-event link for a fair or a live stream: clicks count as source `event` until it expires."""

    @extend_schema(request=EventQrInput, responses={201: dict})
    @idempotent
    def post(self, request):
        from referral_platform.core import clock
        from referral_platform.core.errors import ValidationFailed

        from .. import qr
        from ..models import ReferralCode

        data = EventQrInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        code = (
            ReferralCode.objects.for_tenant(request.tenant)
            .filter(code=values["code"].upper())
            .first()
        )
        if code is None:
            from referral_platform.core.errors import NotFound

            raise NotFound("No such code.")
        if values["expires_at"] <= clock.now():
            raise ValidationFailed("expired", fields={"expires_at": ["Must be in the future."]})
        links = qr.event_qr_links(code.code, values["event"], int(values["expires_at"].timestamp()))
        return Response(
            {**links, "expires_at": values["expires_at"].isoformat()},
            status=status.HTTP_201_CREATED,
        )
