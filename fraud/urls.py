from django.urls import path

from . import views

app_name = "fraud"

urlpatterns = [
    path("", views.queue, name="queue"),
    path("<int:referral_id>/", views.detail, name="detail"),
    path("<int:referral_id>/assign/", views.assign, name="assign"),
    path("decisions/", views.decisions, name="decisions"),
    path("decisions.csv", views.decisions_export, name="decisions_export"),
    path("disputes/", views.disputes, name="disputes"),
    path("disputes/<int:pk>/", views.dispute_detail, name="dispute_detail"),
    path("blocklist/", views.blocklist, name="blocklist"),
    path("blocklist/<int:pk>/remove/", views.blocklist_remove, name="blocklist_remove"),
    path("policy/", views.policy, name="policy"),
    path("codes/", views.codes, name="codes"),
    path("codes/<int:pk>/", views.code_resolve, name="code_resolve"),
]
