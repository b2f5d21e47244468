from django.urls import path

from . import views

urlpatterns = [
    path("analytics/funnel", views.FunnelView.as_view(), name="analytics-funnel"),
    path("analytics/kpis", views.KpisView.as_view(), name="analytics-kpis"),
    path("analytics/referrers", views.ReferrerMeasuresView.as_view(), name="analytics-referrers"),
    path(
        "analytics/incrementality",
        views.IncrementalityView.as_view(),
        name="analytics-incrementality",
    ),
]
