from django.urls import path

from . import views

app_name = "portal"

urlpatterns = [
    path("", views.portal_entry, name="home"),
    path("login/", views.portal_login, name="login"),
    path("login/<str:token>/", views.portal_magic, name="magic"),
    path("logout/", views.portal_logout, name="logout"),
    path("language/", views.portal_language, name="language"),
    path("share/", views.portal_share, name="share"),
    path("message/", views.portal_message, name="message"),
    path("join/", views.portal_join, name="join"),
    path("rewards/<int:reward_id>/choose/", views.portal_choose, name="choose"),
    path("rewards/<int:reward_id>/donate/", views.portal_donate, name="donate"),
    path("rewards/<int:reward_id>/certificate.png", views.portal_certificate, name="certificate"),
    path("redeem/", views.portal_redeem, name="redeem"),
    path("dispute/", views.portal_dispute, name="dispute"),
    path("privacy/tracking/", views.portal_tracking, name="tracking"),
    path("privacy/export.json", views.portal_export, name="export"),
    path("privacy/delete/", views.portal_delete, name="delete"),
    path("widget-snippet/", views.widget_snippet, name="widget_snippet"),
]
