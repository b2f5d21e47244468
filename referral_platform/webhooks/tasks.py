from referral_platform.core.tasks import task


@task("webhooks.deliver", soft_time_limit=30, time_limit=45)
def webhook_deliver_task(tenant_id: int, delivery_id: int) -> str:
    from .services import webhook_delivery_attempt

    # Claiming inside makes a second run (retry, replay, sweep) a no-op.
    return webhook_delivery_attempt(delivery_id=delivery_id)
