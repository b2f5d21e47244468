from django.urls import path

from .api import PortalSessionCreateApi

urlpatterns = [
    path("portal-sessions", PortalSessionCreateApi.as_view(), name="portal-sessions"),
]
