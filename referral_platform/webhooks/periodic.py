def deliver_due() -> dict:
    """Send what is due: first attempts whose on-commit task was lost, and retries."""
    from django.conf import settings

    from .services import webhook_deliveries_due, webhook_delivery_attempt
    from .tasks import webhook_deliver_task

    counts: dict[str, int] = {}
    for delivery_id in webhook_deliveries_due():
        if settings.CELERY_TASK_ALWAYS_EAGER:
            outcome = webhook_delivery_attempt(delivery_id=delivery_id)
            counts[outcome] = counts.get(outcome, 0) + 1
            continue
        try:
            webhook_deliver_task.delay(0, delivery_id)
            outcome = "enqueued"
        except Exception:  # noqa: BLE001 — broker down: send from here, the claim keeps it once
            outcome = webhook_delivery_attempt(delivery_id=delivery_id)
        counts[outcome] = counts.get(outcome, 0) + 1
    return counts
