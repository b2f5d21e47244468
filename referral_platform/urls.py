from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView

from referral_platform.core import views as core_views

api_v1 = [
    path("", include("tracking.api.urls")),
    path("", include("tracking.portal.api_urls")),
    path("", include("programs.api.urls")),
    path("", include("rewards.api.urls")),
    path("", include("fraud.api.urls")),
    path("", include("analytics.api.urls")),
    path("", include("referral_platform.webhooks.api.urls")),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularRedocView.as_view(url_name="schema"), name="api-docs"),
]

urlpatterns = [
    path("healthz", core_views.healthz, name="healthz"),
    path("metrics", core_views.metrics, name="metrics"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("app/", include("referral_platform.tenancy.urls")),
    path("app/programs/", include("programs.urls")),
    path("app/referrals/", include("tracking.urls")),
    path("app/rewards/", include("rewards.urls")),
    path("app/review/", include("fraud.urls")),
    path("app/analytics/", include("analytics.urls")),
    path("portal/", include("tracking.portal.urls")),
    path("", include("tracking.public_urls")),
]
