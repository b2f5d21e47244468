from django.urls import path

from . import views

app_name = "rewards"

urlpatterns = [
    path("", views.reward_list, name="list"),
    path("<int:reward_id>/", views.reward_detail, name="detail"),
    path("<int:reward_id>/clawback/", views.reward_clawback, name="clawback"),
    path("<int:reward_id>/payout-again/", views.reward_payout_again, name="payout_again"),
    path("<int:reward_id>/certificate.png", views.certificate, name="certificate"),
    path("payouts/", views.batch_list, name="batches"),
    path("payouts/settings/", views.payout_settings, name="payout_settings"),
    path("payouts/<int:batch_id>/", views.batch_detail, name="batch"),
    path("payouts/<int:batch_id>/approve/", views.batch_approve, name="batch_approve"),
    path("payouts/<int:batch_id>/paid/", views.batch_mark_paid, name="batch_paid"),
    path("payouts/<int:batch_id>/export.csv", views.batch_export, name="batch_export"),
    path("coupons/", views.coupon_pools, name="coupons"),
    path("coupons/upload/", views.coupon_upload, name="coupon_upload"),
    path("charity/", views.charity, name="charity"),
    path("unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
]
