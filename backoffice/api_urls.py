from django.urls import path

from . import api

urlpatterns = [
    path("referrals/<str:referral_id>", api.ReferralDetail.as_view(), name="referral"),
]
