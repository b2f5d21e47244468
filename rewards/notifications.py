"""Emails to participants: templated, translated in the participant's language, with an
unsubscribe link; enqueued after commit, never sent inside the transaction.

Who hears what: the referrer when a referral is created, when a reward is approved or
fulfilled, and when a choice is waiting; the referee once, when their reward is fulfilled
(the welcome, with the coupon code when there is one)."""

from __future__ import annotations

import contextvars
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from django.conf import settings
from django.core import signing
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from referral_platform.core.compiled import compiled
from referral_platform.core.identity import mask_identity
from referral_platform.core.languages import customer_language
from referral_platform.core.tasks import enqueue_on_commit

from .models import NotificationOptOut, Reward
from .tasks import referral_notify_task, referrals_notify_task, reward_notify_task
from .words import reward_value_text

logger = logging.getLogger(__name__)

SALT = "rewards.unsubscribe"

SUBJECTS = {
    "referral_created": _("A friend joined through your invitation"),
    "approved": _("Your reward is approved"),
    "fulfilled": _("Your reward is ready"),
    "choice_waiting": _("Choose your reward"),
    "welcome": _("Your welcome reward"),
}
# What a referee-side reward's moments become: they hear once, when it is theirs to use.
REFEREE_EVENTS = {"fulfilled": "welcome"}


def unsubscribe_token(tenant_id: int, participant_id: int) -> str:
    return signing.dumps({"t": tenant_id, "p": participant_id}, salt=SALT)


def unsubscribe_token_read(token: str) -> tuple[int, int] | None:
    try:
        data = signing.loads(token, salt=SALT)
    except signing.BadSignature:
        return None
    return int(data["t"]), int(data["p"])


def reward_notify(*, reward, event: str) -> None:
    """`event`: approved | fulfilled | choice_waiting. A lost email must not undo or retry a
    payment: with the broker down it is logged and not sent."""
    if reward.side == "referee":
        event = REFEREE_EVENTS.get(event, "")
    if event:
        enqueue_on_commit(reward_notify_task, reward.tenant_id, reward.pk, event)


_batched: contextvars.ContextVar[dict | None] = contextvars.ContextVar(
    "referral_notices", default=None
)


def referral_notify(*, referral) -> None:
    """Tell the referrer about a referral just created (tracking calls this in its
    transaction; the email goes after commit)."""
    batched = _batched.get()
    if batched is not None:
        batched.setdefault(referral.tenant_id, []).append(referral.pk)
    else:
        enqueue_on_commit(referral_notify_task, referral.tenant_id, referral.pk)


@contextmanager
def referral_notices_batched() -> Iterator[None]:
    """Inside, the referrers' emails about the referrals created are sent after the commit
    by one task a tenant instead of one a referral (a chunk of events); nothing is sent
    for a block that raises."""
    token = _batched.set({})
    try:
        yield
        for tenant_id, referral_ids in _batched.get().items():
            enqueue_on_commit(referrals_notify_task, tenant_id, referral_ids)
    finally:
        _batched.reset(token)


def referral_notifications_send(*, referral_ids: list[int]) -> int:
    """`referral_notification_send` for each; one that fails does not stop the others (none
    is sent twice: the task is not retried). Returns how many were sent."""
    sent, failed = 0, []
    for referral_id in referral_ids:
        try:
            sent += referral_notification_send(referral_id=referral_id)
        except Exception:  # noqa: BLE001 - reported below, after the others went out
            logger.exception("referral %s: the referrer's email failed", referral_id)
            failed.append(referral_id)
    if failed:
        raise RuntimeError(f"referrer emails failed for referrals {failed}")
    return sent


def notification_send(*, reward_id: int, event: str) -> bool:
    """Render and send one reward email; False when there is nobody to tell."""
    reward = (
        Reward.unscoped.select_related("participant", "program", "tenant")
        .filter(pk=reward_id)
        .first()
    )
    if reward is None or event not in SUBJECTS or event == "referral_created":
        return False
    if (event == "welcome") != (reward.side == "referee"):
        return False
    return _send(
        participant=reward.participant,
        tenant=reward.tenant,
        event=event,
        context=lambda: {
            "reward": reward,
            "program": reward.program.name,
            "value": reward_value_text(
                kind=reward.kind,
                amount_minor=reward.amount_minor,
                currency=reward.currency,
                points=reward.points,
                description="",
            )
            or reward.description,
            "code": (reward.details or {}).get("code", ""),
        },
    )


@compiled
def _referral_for_email(*, pk: int):
    from tracking.models import Referral

    return Referral.unscoped.select_related("referrer", "referee", "program", "tenant").filter(
        pk=pk
    )


def referral_notification_send(*, referral_id: int) -> bool:
    """The referrer's email about a new referral; nothing for a rejected one."""
    found = _referral_for_email(pk=referral_id)
    referral = found[0] if found else None
    if referral is None or referral.status == "rejected":
        return False
    referee = referral.referee
    return _send(
        participant=referral.referrer,
        tenant=referral.tenant,
        event="referral_created",
        context=lambda: {
            "program": referral.program.name,
            "friend": mask_identity(email=referee.email, phone=referee.phone, name=referee.name),
        },
    )


def _send(*, participant, tenant, event: str, context: Callable[[], dict]) -> bool:
    """Nothing for an erased or opted-out participant, one who unsubscribed, or no address.
    `context` is built in the participant's language (amounts and units are words too)."""
    if not participant.email or participant.erased_at or participant.opted_out_at:
        return False
    if NotificationOptOut.unscoped.filter(tenant_id=tenant.pk, participant=participant).exists():
        return False
    token = unsubscribe_token(tenant.pk, participant.pk)
    unsubscribe_url = settings.PUBLIC_BASE_URL + reverse("rewards:unsubscribe", args=[token])
    with translation.override(customer_language(participant.locale, tenant.default_locale)):
        subject = str(SUBJECTS[event])
        body = render_to_string(
            "rewards/email/reward.txt",
            {
                **context(),
                "event": event,
                "participant": participant,
                "unsubscribe_url": unsubscribe_url,
            },
        )
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [participant.email])
    return True
