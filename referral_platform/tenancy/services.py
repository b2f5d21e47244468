"""Writes for tenants, memberships and API keys."""

from __future__ import annotations

import copy
import hmac
import time

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils.text import slugify
from django.utils.translation import gettext as _

from referral_platform.core import clock
from referral_platform.core.audit import audit_log
from referral_platform.core.errors import Conflict, PermissionDenied, ValidationFailed

from .models import ApiKey, Invitation, Membership, Role, Tenant


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
    if not tenant.is_sandbox:
        _sandbox_sync_team(tenant)
    return membership


@transaction.atomic
def api_key_create(
    *, tenant: Tenant, name: str, actor=None, ip_address: str | None = None
) -> tuple[ApiKey, str]:
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
    audit_log(
        tenant=tenant,
        actor=actor,
        action="api_key.created",
        target=key,
        data={"name": name, "prefix": prefix},
        ip_address=ip_address,
    )
    return key, full_key


def api_key_revoke(*, key: ApiKey, actor=None, ip_address: str | None = None) -> ApiKey:
    if key.revoked_at is None:
        key.revoked_at = clock.now()
        key.save(update_fields=["revoked_at"])
        audit_log(
            tenant=key.tenant,
            actor=actor,
            action="api_key.revoked",
            target=key,
            data={"name": key.name, "prefix": key.prefix},
            ip_address=ip_address,
        )
    return key


# A few seconds of per-process memory in front of the key lookup: an API call then costs no
# query to authenticate. Saving a key or a tenant (revocation, settings) forgets them all in
# this process at once (tenancy.apps); other processes notice within KEY_CACHE_SECONDS.
KEY_CACHE_SECONDS = 10.0
_keys: dict[str, tuple[float, ApiKey]] = {}


def api_key_cache_forget() -> None:
    _keys.clear()


def api_key_authenticate(full_key: str) -> ApiKey | None:
    digest = ApiKey.hash_secret(full_key)
    now_monotonic = time.monotonic()
    hit = _keys.get(digest)
    if hit is not None and hit[0] > now_monotonic:
        key = hit[1]
    else:
        prefix = full_key.partition(".")[0]
        key = (
            ApiKey.unscoped.select_related("tenant").filter(prefix=prefix, revoked_at=None).first()
        )
        if key is None or not hmac.compare_digest(key.secret_hash, digest):
            return None
        if len(_keys) > 1000:
            _keys.clear()
        _keys[digest] = (now_monotonic + KEY_CACHE_SECONDS, key)
    now = clock.now()
    # Writing last_used_at on every request would be a write per call; once a minute is enough.
    if key.last_used_at is None or (now - key.last_used_at).total_seconds() > 60:
        ApiKey.unscoped.filter(pk=key.pk).update(last_used_at=now)
        key.last_used_at = now
    # Each request gets its own instances: the cached ones are shared between threads.
    fresh = copy.copy(key)
    fresh.tenant = copy.copy(key.tenant)
    return fresh


# --- Team --------------------------------------------------------------------


def _owners(tenant: Tenant):
    return Membership.objects.filter(tenant=tenant, role=Role.OWNER)


@transaction.atomic
def membership_change_role(
    *, membership: Membership, role: str, actor, ip_address: str | None = None
) -> Membership:
    if role not in Role.values:
        raise ValidationFailed("unknown role", fields={"role": [f"unknown: {role}"]})
    # Lock the tenant's owner rows so two owners demoting each other cannot leave none.
    owners = list(_owners(membership.tenant).select_for_update())
    if membership.role == Role.OWNER and role != Role.OWNER and len(owners) <= 1:
        raise Conflict(_("A workspace needs at least one owner."), code="last_owner")
    previous = membership.role
    if previous != role:
        membership.role = role
        membership.save(update_fields=["role"])
        audit_log(
            tenant=membership.tenant,
            actor=actor,
            action="membership.role_changed",
            target=membership,
            data={"email": membership.user.email, "from": previous, "to": role},
            ip_address=ip_address,
        )
    return membership


@transaction.atomic
def membership_remove(*, membership: Membership, actor, ip_address: str | None = None) -> None:
    owners = list(_owners(membership.tenant).select_for_update())
    if membership.role == Role.OWNER and len(owners) <= 1:
        raise Conflict(_("A workspace needs at least one owner."), code="last_owner")
    audit_log(
        tenant=membership.tenant,
        actor=actor,
        action="membership.removed",
        target=membership,
        data={"email": membership.user.email, "role": membership.role},
        ip_address=ip_address,
    )
    membership.delete()


def invitation_create(
    *, tenant: Tenant, email: str, role: str, actor, ip_address: str | None = None
) -> Invitation:
    """Invite `email` with `role` and send the link by email once the row is committed."""
    import secrets

    email = email.strip().lower()
    if role not in Role.values:
        raise ValidationFailed("unknown role", fields={"role": [f"unknown: {role}"]})
    if Membership.objects.filter(tenant=tenant, user__email__iexact=email).exists():
        raise Conflict(
            _("This person is already on the team."),
            code="already_member",
            fields={"email": [email]},
        )
    with transaction.atomic():
        invitations = Invitation.objects.for_tenant(tenant)
        # Re-inviting the same address replaces the open invitation (new role, new link).
        invitations.filter(email=email, accepted_at=None, revoked_at=None).update(
            revoked_at=clock.now()
        )
        invitation = Invitation.unscoped.create(
            tenant=tenant, email=email, role=role, nonce=secrets.token_hex(16), invited_by=actor
        )
        audit_log(
            tenant=tenant,
            actor=actor,
            action="invitation.created",
            target=invitation,
            data={"email": email, "role": role},
            ip_address=ip_address,
        )
        transaction.on_commit(lambda: _invitation_send(invitation.pk))
    return invitation


def _invitation_send(invitation_id: int) -> None:
    from django.conf import settings
    from django.core.mail import send_mail
    from django.template.loader import render_to_string
    from django.urls import reverse
    from django.utils import translation

    invitation = Invitation.unscoped.select_related("tenant", "invited_by").get(pk=invitation_id)
    url = settings.PUBLIC_BASE_URL + reverse("invitation_accept", args=[invitation.token])
    with translation.override(invitation.tenant.default_locale or "en"):
        context = {"invitation": invitation, "url": url, "tenant": invitation.tenant}
        subject = render_to_string("tenancy/email/invitation_subject.txt", context).strip()
        body = render_to_string("tenancy/email/invitation.txt", context)
    send_mail(subject, body, None, [invitation.email])


def invitation_from_token(token: str) -> Invitation | None:
    """The open invitation a link names, or None (bad signature, expired, used or revoked)."""
    from django.core import signing

    try:
        data = signing.loads(token, salt=Invitation.SALT, max_age=Invitation.MAX_AGE_SECONDS)
    except signing.BadSignature:
        return None
    invitation = (
        Invitation.unscoped.select_related("tenant").filter(pk=data.get("i"), nonce=data.get("n"))
    ).first()
    if invitation is None or not invitation.is_open:
        return None
    return invitation


def invitation_revoke(*, invitation: Invitation, actor, ip_address: str | None = None) -> None:
    if invitation.is_open:
        invitation.revoked_at = clock.now()
        invitation.save(update_fields=["revoked_at"])
        audit_log(
            tenant=invitation.tenant,
            actor=actor,
            action="invitation.revoked",
            target=invitation,
            data={"email": invitation.email},
            ip_address=ip_address,
        )


@transaction.atomic
def invitation_accept(
    *, invitation: Invitation, user=None, password: str | None = None, ip_address: str | None = None
) -> Membership:
    """Link the invited person: an existing signed-in user, or a new account for the address."""
    invitation = Invitation.unscoped.select_for_update().get(pk=invitation.pk)
    if not invitation.is_open:
        raise Conflict(_("This invitation was already used or revoked."), code="invitation_closed")
    if user is None:
        user = user_get_or_create(email=invitation.email, password=password)
    elif user.email.lower() != invitation.email.lower():
        raise PermissionDenied(_("This invitation is for another email address."))
    # The link reached this mailbox, which proves the address.
    from allauth.account.models import EmailAddress

    EmailAddress.objects.update_or_create(
        user=user, email=invitation.email, defaults={"verified": True}
    )
    membership, created = Membership.objects.get_or_create(
        tenant=invitation.tenant, user=user, defaults={"role": invitation.role}
    )
    invitation.accepted_at = clock.now()
    invitation.accepted_by = user
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    audit_log(
        tenant=invitation.tenant,
        actor=user,
        action="invitation.accepted",
        target=invitation,
        data={"email": invitation.email, "role": membership.role, "new_member": created},
        ip_address=ip_address,
    )
    _sandbox_sync_team(invitation.tenant)
    return membership


# --- Tenant settings and sandbox ---------------------------------------------

SETTINGS_FIELDS = (
    "name",
    "currency",
    "timezone",
    "holidays",
    "workdays",
    "default_locale",
    "brand_colour",
    "logo",
    "portal_frame_origins",
    "review_sla_hours",
    "require_mfa",
)


@transaction.atomic
def tenant_update_settings(
    *, tenant: Tenant, actor, changes: dict, ip_address: str | None = None
) -> Tenant:
    unknown = set(changes) - set(SETTINGS_FIELDS)
    if unknown:
        raise ValidationFailed("unknown settings", fields={k: ["unknown"] for k in unknown})
    changed = {}
    for field, value in changes.items():
        if getattr(tenant, field) != value:
            setattr(tenant, field, value)
            changed[field] = "<file>" if field == "logo" else value
    if changed:
        tenant.full_clean(exclude=["live_tenant"])
        tenant.save()
        audit_log(
            tenant=tenant,
            actor=actor,
            action="tenant.settings_changed",
            target=tenant,
            data={"changed": {k: str(v) for k, v in changed.items()}},
            ip_address=ip_address,
        )
    return tenant


def _sandbox_sync_team(tenant: Tenant) -> None:
    """The sandbox has the same team as its live tenant, with the same roles."""
    live = tenant.live_tenant if tenant.is_sandbox else tenant
    sandbox = Tenant.objects.filter(live_tenant=live, is_sandbox=True).first()
    if sandbox is None:
        return
    live_roles = dict(Membership.objects.filter(tenant=live).values_list("user_id", "role"))
    Membership.objects.filter(tenant=sandbox).exclude(user_id__in=live_roles).delete()
    for user_id, role in live_roles.items():
        Membership.objects.update_or_create(
            tenant=sandbox, user_id=user_id, defaults={"role": role}
        )


@transaction.atomic
def sandbox_open(*, tenant: Tenant, actor, ip_address: str | None = None) -> Tenant:
    """The linked sandbox of a live tenant, made on first use; separate data, same team."""
    if tenant.is_sandbox:
        return tenant
    sandbox = Tenant.objects.select_for_update().filter(live_tenant=tenant).first()
    if sandbox is None:
        slug = f"{tenant.slug}-sandbox"[:60]
        n = 2
        while Tenant.objects.filter(slug=slug).exists():
            slug = f"{tenant.slug[:50]}-sandbox-{n}"
            n += 1
        sandbox = Tenant.objects.create(
            name=f"{tenant.name} (sandbox)",
            slug=slug,
            currency=tenant.currency,
            timezone=tenant.timezone,
            holidays=tenant.holidays,
            workdays=tenant.workdays,
            default_locale=tenant.default_locale,
            brand_colour=tenant.brand_colour,
            portal_frame_origins=tenant.portal_frame_origins,
            review_sla_hours=tenant.review_sla_hours,
            is_sandbox=True,
            live_tenant=tenant,
        )
        audit_log(
            tenant=tenant,
            actor=actor,
            action="sandbox.created",
            target=sandbox,
            data={"slug": slug},
            ip_address=ip_address,
        )
    _sandbox_sync_team(tenant)
    return sandbox
