from django.urls import path

from . import views

app_name = "connectors_hooks"

urlpatterns = [
    path("stripe/<slug:tenant>", views.stripe_hook, name="stripe"),
    path("shopify/<slug:tenant>", views.shopify_hook, name="shopify"),
]
