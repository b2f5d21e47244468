from csp.decorators import csp_update
from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from django.views.static import serve as serve_file
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView

from portal import public_urls as portal_public_urls
from referral_platform.core import views as core_views
from referral_platform.tenancy import views as tenancy_views
from tracking import public_urls as tracking_public_urls

api_v1 = [
    path("", include("tracking.api.urls")),
    path("", include("pipeline.api_urls")),
    path("", include("backoffice.api_urls")),
    path("", include("portal.api_urls")),
    path("", include("programs.api.urls")),
    path("", include("rewards.api.urls")),
    path("", include("fraud.api.urls")),
    path("", include("analytics.api.urls")),
    path("", include("referral_platform.webhooks.api.urls")),
    path("", include("connectors.api_urls")),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path(
        "docs/",
        # Redoc builds its search index in a worker started from a blob: URL.
        csp_update({"worker-src": ["'self'", "blob:"]})(
            SpectacularRedocView.as_view(url_name="schema", template_name="api/docs.html")
        ),
        name="api-docs",
    ),
]

urlpatterns = [
    # First: the redirect is the hottest path, and Django tries patterns in order.
    # The redirect (tracking) and the invite page, QR codes and posters (portal) share the
    # namespace `tracking_public`.
    path(
        "",
        include(
            (
                tracking_public_urls.urlpatterns + portal_public_urls.urlpatterns,
                "tracking_public",
            )
        ),
    ),
    path("healthz", core_views.healthz, name="healthz"),
    path("metrics", core_views.metrics, name="metrics"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("app/", include("referral_platform.tenancy.urls")),
    path("app/settings/webhooks/", include("referral_platform.webhooks.urls")),
    path("app/settings/connectors/", include("connectors.urls")),
    path("hooks/", include("connectors.hook_urls")),
    path("app/programs/", include("programs.urls")),
    path("app/participants/", include("backoffice.participant_urls")),
    path("app/referrals/", include("tracking.urls")),
    path("app/referrals/", include("backoffice.urls")),
    path("app/rewards/", include("rewards.urls")),
    # The review decisions are the flow's (pipeline); the queue and the rest are fraud's.
    path("app/review/", include("pipeline.urls")),
    path("app/review/", include("fraud.urls")),
    path("app/analytics/", include("analytics.urls")),
    path("portal/", include("portal.urls")),
    # Public: the signed token decides the tenant.
    path("join/<str:token>/", tenancy_views.invitation_accept, name="invitation_accept"),
    # Tenant logos are the only uploads; small and public, so Django serves them.
    re_path(
        r"^media/(?P<path>logos/[A-Za-z0-9._/-]+)$",
        serve_file,
        {"document_root": settings.MEDIA_ROOT},
        name="media",
    ),
    path("", core_views.root, name="root"),
]

handler400 = "referral_platform.core.views.bad_request"
handler403 = "referral_platform.core.views.permission_denied"
handler404 = "referral_platform.core.views.page_not_found"
handler500 = "referral_platform.core.views.server_error"
handler429 = "referral_platform.core.views.too_many_requests"
