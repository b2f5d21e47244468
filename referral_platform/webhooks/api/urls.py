from django.urls import path

from .views import WebhookEndpointListCreate

urlpatterns = [
    path("webhook-endpoints", WebhookEndpointListCreate.as_view(), name="webhook-endpoints"),
]
