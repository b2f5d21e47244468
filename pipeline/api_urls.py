from django.urls import path

from . import api

urlpatterns = [
    path("claims", api.ClaimCreate.as_view(), name="claims"),
]
