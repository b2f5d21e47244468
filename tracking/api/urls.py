from django.urls import path

from . import eligibility, views

urlpatterns = [
    path("participants", views.ParticipantUpsert.as_view(), name="participants"),
    path("participants/<path:external_id>", views.ParticipantDetail.as_view(), name="participant"),
    path(
        "programs/<slug:program_slug>/enrollments",
        views.EnrollmentCreate.as_view(),
        name="enrollments",
    ),
    path(
        "programs/<slug:slug>/eligibility",
        eligibility.EligibilityView.as_view(),
        name="programs-eligibility",
    ),
    path("events", views.EventCreate.as_view(), name="events"),
    path("events/batch", views.EventBatch.as_view(), name="events-batch"),
    path("event-qr", views.EventQrCreate.as_view(), name="event-qr"),
    path("referrals", views.ReferralList.as_view(), name="referrals"),
]
