from django.urls import path

from . import views

app_name = "connectors"

urlpatterns = [
    path("", views.connector_list, name="list"),
    path("deliveries/<int:pk>/", views.delivery_detail, name="delivery"),
    path("payouts/", views.payout_provider, name="payouts"),
    path("crm/", views.crm_settings, name="crm"),
    path("<str:kind>/", views.connector_detail, name="detail"),
    path("<str:kind>/rotate/", views.connector_rotate, name="rotate"),
]
