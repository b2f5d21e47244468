"""allauth adapter: sign-up only when enabled (staff join by invitation), our client IP, and
failed sign-ins counted per account *and* IP, so a stranger guessing the owner's password
locks out only himself; a locked sign-in answers 429 with Retry-After."""

from allauth.account import app_settings as account_settings
from allauth.account.adapter import DefaultAccountAdapter
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.core.internal.ratelimit import parse_rates
from django.conf import settings

from referral_platform.core.net import client_ip
from referral_platform.core.ratelimit import too_many_requests


def _lockout_seconds() -> int:
    """The longest window of the `login_failed` limits: how long a lock can last."""
    rates = parse_rates(account_settings.RATE_LIMITS.get("login_failed"))
    return int(max((r.duration for r in rates), default=60))


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request) -> bool:
        return settings.ACCOUNT_SIGNUP_ENABLED

    def get_client_ip(self, request) -> str:
        return client_ip(request) or "0.0.0.0"  # noqa: S104 - a rate-limit key, not a bind

    def _get_login_attempts_cache_key(self, request, **credentials) -> str:
        # allauth keys the per-account limit ("5/5m/key") on the login alone; with the IP in
        # the key, failures from elsewhere never lock the account's owner out.
        return f"{super()._get_login_attempts_cache_key(request, **credentials)}:{self.get_client_ip(request)}"

    def pre_authenticate(self, request, **credentials) -> None:
        try:
            super().pre_authenticate(request, **credentials)
        except Exception as exc:
            if getattr(exc, "code", None) != "too_many_login_attempts":
                raise
            # Not a form error on a 200 page: clients and monitors read the status.
            raise ImmediateHttpResponse(
                too_many_requests(request, retry_after=_lockout_seconds())
            ) from None
