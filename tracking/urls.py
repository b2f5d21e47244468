from django.urls import path

from . import views

app_name = "tracking"

urlpatterns = [
    path("", views.referral_list, name="referral_list"),
    path("<int:referral_id>/", views.referral_detail, name="referral_detail"),
]
