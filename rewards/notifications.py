"""Emails to participants about their rewards: templated, translated in the participant's
language, with an unsubscribe link; sent after commit, never inside the transaction."""

from __future__ import annotations

from django.core import signing
from django.db import transaction

SALT = "rewards.unsubscribe"


def unsubscribe_token(tenant_id: int, participant_id: int) -> str:
    return signing.dumps({"t": tenant_id, "p": participant_id}, salt=SALT)


def unsubscribe_token_read(token: str) -> tuple[int, int] | None:
    try:
        data = signing.loads(token, salt=SALT)
    except signing.BadSignature:
        return None
    return int(data["t"]), int(data["p"])


def reward_notify(*, reward, event: str) -> None:
    """`event`: approved | fulfilled | choice_waiting | welcome. Enqueued on commit."""
    tenant_id, reward_id = reward.tenant_id, reward.pk

    def send():
        from .tasks import reward_notify_task

        try:
            reward_notify_task.delay(tenant_id, reward_id, event)
        except Exception:  # noqa: BLE001 — a lost notification must not undo or retry a payment
            return

    transaction.on_commit(send)


SUBJECTS = {
    "approved": "Your reward is approved",
    "fulfilled": "Your reward is ready",
    "choice_waiting": "Choose your reward",
    "welcome": "Your welcome reward",
}


def notification_send(*, reward_id: int, event: str) -> bool:
    """Render and send one email; False when there is nobody to tell or they opted out."""
    from django.conf import settings
    from django.core.mail import send_mail
    from django.template.loader import render_to_string
    from django.urls import reverse
    from django.utils import translation
    from django.utils.translation import gettext

    from referral_platform.core.money import format_minor

    from .models import NotificationOptOut, Reward

    reward = (
        Reward.unscoped.select_related("participant", "program", "tenant")
        .filter(pk=reward_id)
        .first()
    )
    if reward is None or event not in SUBJECTS:
        return False
    participant = reward.participant
    if not participant.email or participant.erased_at is not None:
        return False
    if NotificationOptOut.unscoped.filter(
        tenant_id=reward.tenant_id, participant=participant
    ).exists():
        return False
    if event == "welcome" and reward.side != "referee":
        return False
    token = unsubscribe_token(reward.tenant_id, participant.pk)
    context = {
        "reward": reward,
        "event": event,
        "tenant": reward.tenant,
        "participant": participant,
        "value": format_minor(reward.amount_minor, reward.currency)
        or (f"{reward.points}" if reward.points else reward.description),
        "code": (reward.details or {}).get("code", ""),
        "unsubscribe_url": settings.PUBLIC_BASE_URL + reverse("rewards:unsubscribe", args=[token]),
    }
    language = participant.locale or reward.tenant.default_locale or settings.LANGUAGE_CODE
    with translation.override(language):
        subject = gettext(SUBJECTS[event])
        body = render_to_string("rewards/email/reward.txt", context)
    send_mail(
        subject,
        body,
        settings.DEFAULT_FROM_EMAIL,
        [participant.email],
        fail_silently=False,
    )
    return True
