from django.urls import path

from . import views
from .models import Kind

app_name = "connectors"

urlpatterns = [
    path("", views.connector_list, name="list"),
    path("deliveries/<int:pk>/", views.delivery_detail, name="delivery"),
    path("payouts/", views.payout_provider, name="payouts"),
    path("crm/", views.crm_settings, name="crm"),
    # One fixed path per kind: a kind is a page of every tenant, not an object of one.
    *(
        path(f"{kind}/", views.connector_detail, {"kind": kind}, name="detail")
        for kind in Kind.values
    ),
    path("segment/rotate/", views.connector_rotate, {"kind": Kind.SEGMENT}, name="rotate"),
]
