"""Writes for tenants, memberships and API keys."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils.text import slugify

from referral_platform.core import clock
from referral_platform.core.audit import audit_log
from referral_platform.core.errors import Conflict, ValidationFailed

from .models import ApiKey, Membership, Role, Tenant


@transaction.atomic
def tenant_create(
    *,
    name: str,
    slug: str,
    owner_email: str,
    currency: str = "CNY",
    timezone: str = "UTC",
    default_locale: str = "en",
    owner_password: str | None = None,
) -> Tenant:
    from zoneinfo import available_timezones

    slug = slugify(slug)
    if not slug:
        raise ValidationFailed("slug is required", fields={"slug": ["required"]})
    if Tenant.objects.filter(slug=slug).exists():
        raise Conflict(f"a tenant with slug {slug!r} exists", code="slug_taken")
    if timezone not in available_timezones():
        raise ValidationFailed("unknown time zone", fields={"timezone": [f"unknown: {timezone}"]})
    if len(currency) != 3 or not currency.isalpha():
        raise ValidationFailed("bad currency", fields={"currency": ["an ISO 4217 code"]})
    tenant = Tenant.objects.create(
        name=name,
        slug=slug,
        currency=currency.upper(),
        timezone=timezone,
        default_locale=default_locale,
    )
    user = user_get_or_create(email=owner_email, password=owner_password)
    Membership.objects.create(tenant=tenant, user=user, role=Role.OWNER)
    audit_log(
        tenant=tenant, actor=None, action="tenant.created", target=tenant, data={"slug": slug}
    )
    return tenant


def user_get_or_create(*, email: str, password: str | None = None):
    User = get_user_model()
    email = email.strip().lower()
    user = User.objects.filter(email__iexact=email).first()
    if user is None:
        user = User.objects.create_user(username=email[:150], email=email, password=password)
        from allauth.account.models import EmailAddress

        EmailAddress.objects.get_or_create(
            user=user, email=email, defaults={"verified": True, "primary": True}
        )
    elif password:
        user.set_password(password)
        user.save(update_fields=["password"])
    return user


def membership_add(*, tenant: Tenant, user, role: str, actor=None) -> Membership:
    membership, created = Membership.objects.update_or_create(
        tenant=tenant, user=user, defaults={"role": role}
    )
    audit_log(
        tenant=tenant,
        actor=actor,
        action="membership.added" if created else "membership.changed",
        target=membership,
        data={"email": user.email, "role": role},
    )
    return membership


@transaction.atomic
def api_key_create(*, tenant: Tenant, name: str, actor=None) -> tuple[ApiKey, str]:
    """Create a key and return it with the full secret, which is never shown again."""
    prefix, full_key = ApiKey.generate(is_test=tenant.is_sandbox)
    key = ApiKey.unscoped.create(
        tenant=tenant,
        name=name,
        prefix=prefix,
        secret_hash=ApiKey.hash_secret(full_key),
        is_test=tenant.is_sandbox,
        created_by=actor,
    )
    audit_log(tenant=tenant, actor=actor, action="api_key.created", target=key, data={"name": name})
    return key, full_key


def api_key_revoke(*, key: ApiKey, actor=None) -> ApiKey:
    if key.revoked_at is None:
        key.revoked_at = clock.now()
        key.save(update_fields=["revoked_at"])
        audit_log(tenant=key.tenant, actor=actor, action="api_key.revoked", target=key)
    return key


def api_key_authenticate(full_key: str) -> ApiKey | None:
    prefix, _, _ = full_key.partition(".")
    key = ApiKey.unscoped.select_related("tenant").filter(prefix=prefix, revoked_at=None).first()
    if key is None:
        return None
    import hmac

    if not hmac.compare_digest(key.secret_hash, ApiKey.hash_secret(full_key)):
        return None
    now = clock.now()
    # Writing last_used_at on every request would be a write per call; once a minute is enough.
    if key.last_used_at is None or (now - key.last_used_at).total_seconds() > 60:
        ApiKey.unscoped.filter(pk=key.pk).update(last_used_at=now)
    return key
