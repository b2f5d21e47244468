from django.urls import path

from . import views

app_name = "tenancy"

urlpatterns = [
    path("", views.home, name="home"),
    path("switch/<int:tenant_id>/", views.switch_tenant, name="switch"),
]
