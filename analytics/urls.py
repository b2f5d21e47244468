from django.urls import path

from . import views

app_name = "analytics"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("breakdowns/", views.breakdowns, name="breakdowns"),
    path("cohorts/", views.cohorts, name="cohorts"),
    path("leaderboard/", views.leaderboard, name="leaderboard"),
    path("fraud/", views.fraud, name="fraud"),
    path("cost/", views.cost, name="cost"),
    path("coverage/", views.coverage, name="coverage"),
    path("advocates/", views.advocates_page, name="advocates"),
    path("experiments/", views.experiments_page, name="experiments"),
    path("experiments/promote/", views.experiment_promote, name="experiment_promote"),
    path("goals/", views.goals, name="goals"),
    path("goals/<int:goal_id>/delete/", views.goal_delete, name="goal_delete"),
    path("export/<str:kind>.csv", views.export, name="export"),
    path("exports/<int:job_id>/", views.export_job, name="export_job"),
    path("exports/<int:job_id>/status", views.export_job_status, name="export_job_status"),
    path("exports/<int:job_id>/download", views.export_download, name="export_download"),
]
