"""Tasks take primitive ids, load inside the tenant and call one service; running one twice
is harmless (the services claim by lock/conditional UPDATE)."""

from referral_platform.core.tasks import task


@task("rewards.process")
def reward_process_task(tenant_id: int, reward_id: int) -> str:
    from .services import reward_fulfil, reward_release

    reward_release(reward_id=reward_id)
    return reward_fulfil(reward_id=reward_id)


@task("rewards.notify", soft_time_limit=30, time_limit=45)
def reward_notify_task(tenant_id: int, reward_id: int, event: str) -> bool:
    from .notifications import notification_send

    return notification_send(reward_id=reward_id, event=event)


@task("rewards.notify_referral", soft_time_limit=30, time_limit=45)
def referral_notify_task(tenant_id: int, referral_id: int) -> bool:
    from .notifications import referral_notification_send

    return referral_notification_send(referral_id=referral_id)


@task("rewards.notify_referrals", soft_time_limit=120, time_limit=150)
def referrals_notify_task(tenant_id: int, referral_ids: list[int]) -> int:
    from .notifications import referral_notifications_send

    return referral_notifications_send(referral_ids=[int(pk) for pk in referral_ids])
