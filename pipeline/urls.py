from django.urls import path

from . import views

app_name = "pipeline"

urlpatterns = [
    path("bulk/", views.bulk, name="review_bulk"),
    path("<int:referral_id>/decide/", views.decide, name="review_decide"),
]
