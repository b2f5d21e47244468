from django.urls import path

from . import views

app_name = "backoffice"

urlpatterns = [
    path("<int:referral_id>/", views.referral_detail, name="referral_detail"),
]
