"""allauth adapter: sign-up only when enabled (staff join by invitation), our client IP."""

from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings

from referral_platform.core.net import client_ip


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request) -> bool:
        return settings.ACCOUNT_SIGNUP_ENABLED

    def get_client_ip(self, request) -> str:
        return client_ip(request) or "0.0.0.0"  # noqa: S104 - a rate-limit key, not a bind
