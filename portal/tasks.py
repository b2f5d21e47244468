"""Mail the portal sign-in link, after the request's transaction has committed."""

from __future__ import annotations

from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.utils import translation

from referral_platform.core.tasks import task


# The registered name predates the move out of tracking/; messages already queued carry it.
@task("tracking.portal_magic_link_send", soft_time_limit=30, time_limit=45)
def portal_magic_link_send_task(tenant_id: int, participant_id: int) -> bool:
    from referral_platform.core.errors import NotFound

    from . import rules
    from .selectors import participant_for_portal
    from .services import magic_link_build

    try:
        participant = participant_for_portal(tenant_id=tenant_id, participant_id=participant_id)
    except NotFound:
        return False  # erased since the request: nothing to send
    if not participant.email:
        return False
    tenant = participant.tenant
    language = rules.portal_language(participant.locale, tenant.default_locale)
    context = {
        "tenant": tenant,
        "participant": participant,
        "url": magic_link_build(tenant_id=tenant_id, participant_id=participant_id),
    }
    with translation.override(language):
        subject = render_to_string("portal/email/magic_link_subject.txt", context).strip()
        body = render_to_string("portal/email/magic_link.txt", context)
    send_mail(subject, body, None, [participant.email])
    return True
