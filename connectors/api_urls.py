from django.urls import path

from . import views

app_name = "connectors_api"

urlpatterns = [path("segment", views.SegmentReceive.as_view(), name="segment")]
