from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from referral_platform.core.api.idempotency import idempotent
from referral_platform.core.api.pagination import CursorPagination
from referral_platform.core.errors import NotFound
from referral_platform.tenancy.api import TenantAPIView

from .. import selectors, services
from ..models import Payout
from .serializers import (
    BalanceFilter,
    PayoutFailedIn,
    PayoutPaidIn,
    RedemptionCreated,
    RedemptionFilter,
    RedemptionIn,
    RedemptionOut,
    RewardFilter,
    RewardOut,
)


class RewardList(TenantAPIView):
    @extend_schema(parameters=[RewardFilter], responses={200: RewardOut(many=True)})
    def get(self, request):
        filters = RewardFilter(data=request.query_params)
        filters.is_valid(raise_exception=True)
        qs = selectors.reward_list(tenant=request.tenant, **filters.validated_data)
        paginator = CursorPagination()
        page = paginator.paginate_queryset(qs, request, view=self)
        return paginator.get_paginated_response([selectors.reward_to_dict(r) for r in page])


class RewardDetail(TenantAPIView):
    @extend_schema(responses={200: RewardOut})
    def get(self, request, reward_id: int):
        return Response(
            selectors.reward_to_dict(
                selectors.reward_get(tenant=request.tenant, reward_id=reward_id)
            )
        )


def _payout(request, payout_id: int) -> Payout:
    payout = Payout.objects.for_tenant(request.tenant).filter(pk=payout_id).first()
    if payout is None:
        raise NotFound("No such payout.")
    return payout


def _payout_data(payout: Payout) -> dict:
    return selectors.payout_to_dict(payout)


class PayoutList(TenantAPIView):
    @extend_schema(responses={200: dict})
    def get(self, request):
        qs = Payout.objects.for_tenant(request.tenant)
        if request.query_params.get("status"):
            qs = qs.filter(status=request.query_params["status"])
        paginator = CursorPagination()
        page = paginator.paginate_queryset(qs, request, view=self)
        return paginator.get_paginated_response([_payout_data(p) for p in page])


class ParticipantBalance(TenantAPIView):
    @extend_schema(parameters=[BalanceFilter], responses={200: dict})
    def get(self, request):
        """A participant's cash per currency, net of clawbacks: `balance` (negative while
        cash is owed back), `payable`, `owed` (carried to the next payout), `earned`, `paid`;
        and `points`."""
        from tracking.services import participant_get

        filters = BalanceFilter(data=request.query_params)
        filters.is_valid(raise_exception=True)
        participant = participant_get(
            tenant=request.tenant, external_id=filters.validated_data["participant"]
        )
        positions = selectors.cash_positions(
            tenant_id=request.tenant.pk, participant_id=participant.pk
        )
        return Response(
            {
                "participant": participant.external_id,
                "cash": [
                    {"currency": currency, **position.as_dict()}
                    for currency, position in positions.items()
                ],
                "points": selectors.points_balance(
                    tenant=request.tenant, participant_id=participant.pk
                ),
            }
        )


class PayoutMarkPaid(TenantAPIView):
    @extend_schema(request=PayoutPaidIn, responses={200: dict})
    @idempotent
    def post(self, request, payout_id: int):
        data = PayoutPaidIn(data=request.data)
        data.is_valid(raise_exception=True)
        payout = services.payout_mark_paid(
            payout=_payout(request, payout_id), **data.validated_data
        )
        return Response(_payout_data(payout))


class PayoutMarkFailed(TenantAPIView):
    @extend_schema(request=PayoutFailedIn, responses={200: dict})
    @idempotent
    def post(self, request, payout_id: int):
        data = PayoutFailedIn(data=request.data)
        data.is_valid(raise_exception=True)
        payout = services.payout_mark_failed(
            payout=_payout(request, payout_id), **data.validated_data
        )
        return Response(_payout_data(payout))


class RedemptionListCreate(TenantAPIView):
    @extend_schema(request=RedemptionIn, responses={201: RedemptionCreated})
    @idempotent
    def post(self, request):
        """Spend a participant's points on an item of the program's points catalogue."""
        from programs.selectors import program_get
        from tracking.services import participant_get

        data = RedemptionIn(data=request.data)
        data.is_valid(raise_exception=True)
        participant = participant_get(
            tenant=request.tenant, external_id=data.validated_data["participant"]
        )
        redemption = services.points_redeem(
            participant=participant,
            program=program_get(request.tenant, data.validated_data["program"]),
            item_key=data.validated_data["item"],
            actor_label=f"api_key:{request.auth.prefix}",
            idempotency_key=request.headers.get("Idempotency-Key", ""),
        )
        body = selectors.redemption_to_dict(redemption)
        body["points_balance"] = selectors.points_balance(
            tenant=request.tenant, participant_id=participant.pk
        )
        return Response(body, status=201)

    @extend_schema(parameters=[RedemptionFilter], responses={200: RedemptionOut(many=True)})
    def get(self, request):
        filters = RedemptionFilter(data=request.query_params)
        filters.is_valid(raise_exception=True)
        qs = selectors.redemption_list(tenant=request.tenant, **filters.validated_data)
        paginator = CursorPagination()
        page = paginator.paginate_queryset(qs, request, view=self)
        return paginator.get_paginated_response([selectors.redemption_to_dict(r) for r in page])
