from django.http import HttpResponseRedirect
from django.urls import include, path


def bare_redirect(request, code: str):
    """The floor: a Django view that does nothing but answer 302, through the same stack."""
    return HttpResponseRedirect(f"/i/{code}")


urlpatterns = [
    path("bench/bare/<str:code>", bare_redirect),
    path("", include("referral_platform.urls")),
]
