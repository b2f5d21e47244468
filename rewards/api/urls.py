from django.urls import path

from . import views

urlpatterns = [
    path("rewards", views.RewardList.as_view(), name="rewards"),
    path("rewards/<int:reward_id>", views.RewardDetail.as_view(), name="reward"),
    path("redemptions", views.RedemptionListCreate.as_view(), name="redemptions"),
    path("payouts", views.PayoutList.as_view(), name="payouts"),
    path("balances", views.ParticipantBalance.as_view(), name="balances"),
    path("payouts/<int:payout_id>/paid", views.PayoutMarkPaid.as_view(), name="payout-paid"),
    path("payouts/<int:payout_id>/failed", views.PayoutMarkFailed.as_view(), name="payout-failed"),
]
