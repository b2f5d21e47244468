from django.urls import path

from . import views

urlpatterns = [
    path("programs", views.ProgramListView.as_view(), name="programs-list"),
    path("programs/spec-schema", views.SpecSchemaView.as_view(), name="programs-spec-schema"),
    path("programs/<slug:slug>", views.ProgramDetailView.as_view(), name="programs-detail"),
]
