from django.urls import path

from . import views

app_name = "tenancy"

urlpatterns = [
    path("", views.home, name="home"),
    path("switch/<int:tenant_id>/", views.switch_tenant, name="switch"),
    path("sandbox/", views.sandbox_open, name="sandbox_open"),
    path("settings/", views.tenant_settings, name="settings"),
    path("settings/team/", views.team, name="team"),
    path("settings/team/<int:pk>/role/", views.member_role, name="member_role"),
    path("settings/team/<int:pk>/remove/", views.member_remove, name="member_remove"),
    path(
        "settings/invitations/<int:pk>/revoke/", views.invitation_revoke, name="invitation_revoke"
    ),
    path("settings/api-keys/", views.api_keys, name="api_keys"),
    path("settings/api-keys/<int:pk>/revoke/", views.api_key_revoke, name="api_key_revoke"),
    path("settings/audit/", views.audit_log_page, name="audit"),
    path("settings/audit/export.csv", views.audit_log_export, name="audit_export"),
]
