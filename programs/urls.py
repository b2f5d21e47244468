from django.urls import path

from . import views

app_name = "programs"

urlpatterns = [
    path("", views.program_list, name="list"),
    path("new/", views.program_new, name="new"),
    # A leading underscore: no program slug can take these paths.
    path("_spec/", views.spec_reference, name="spec_reference"),
    path("_spec/schema.json", views.spec_schema, name="spec_schema"),
    path("<slug:slug>/", views.program_detail, name="detail"),
    path("<slug:slug>/status/", views.program_status, name="status"),
    path("<slug:slug>/edit/<str:section>/", views.program_section, name="section"),
    path(
        "<slug:slug>/edit/<str:section>/validate/",
        views.program_section_validate,
        name="section_validate",
    ),
    path("<slug:slug>/simulate/", views.program_simulate, name="simulate"),
    path("<slug:slug>/estimate/", views.program_estimate, name="estimate"),
    path("<slug:slug>/versions/", views.program_versions, name="versions"),
    path("<slug:slug>/export.json", views.program_export, name="export"),
]
