from django.urls import path, re_path

from . import public

# Included with tracking.public_urls under the one namespace `tracking_public`
# (referral_platform/urls.py), so `tracking_public:invite` and the rest keep their names.
urlpatterns = [
    re_path(r"^i/(?P<code>[A-Za-z0-9-]{1,32})/?$", public.invite, name="invite"),
    re_path(r"^qr/(?P<code>[A-Za-z0-9-]{1,32})\.(?P<fmt>png|svg)$", public.qr_image, name="qr"),
    path("qr/<str:code>/poster.png", public.poster, name="poster"),
    path("qr/<str:code>/event.png", public.event_qr_image, name="event_qr"),
]
