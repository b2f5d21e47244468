from django.urls import re_path

from . import public

# Included with portal.public_urls under the one namespace `tracking_public`
# (referral_platform/urls.py): the redirect first, the hottest path.
urlpatterns = [
    re_path(r"^r/(?P<code>[A-Za-z0-9-]{1,32})/?$", public.redirect, name="redirect"),
]
