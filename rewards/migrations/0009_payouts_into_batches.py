"""A payout requested once its period's batch was approved got no batch, and a payout
provider sent such payouts without any approval. New payouts go in a follow-on batch
(`rewards.services.fulfilment._open_batch`); this puts the requested payouts stored without
one in the open batch of their period, or its follow-on, the same way."""

from django.db import migrations

from referral_platform.core.calendar import TenantCalendar, period_key

WEEKLY_PAYOUT_MAX_MINOR = 10_000  # rewards.services.common, as of this migration


def forwards(apps, schema_editor):
    Payout = apps.get_model("rewards", "Payout")
    PayoutBatch = apps.get_model("rewards", "PayoutBatch")
    rows = Payout._default_manager.filter(batch__isnull=True, status="requested").select_related(
        "reward", "tenant"
    )
    for payout in rows.iterator(chunk_size=500):
        reward = payout.reward
        cadence = "week" if int(reward.amount_minor or 0) <= WEEKLY_PAYOUT_MAX_MINOR else "quarter"
        key = period_key(payout.created_at, cadence, TenantCalendar(payout.tenant.timezone))
        number = 1
        while True:
            batch, _ = PayoutBatch._default_manager.get_or_create(
                tenant_id=payout.tenant_id,
                program_id=reward.program_id,
                cadence=cadence,
                period_key=key if number == 1 else f"{key}-{number}",
                currency=payout.currency,
                defaults={"created_at": payout.created_at},
            )
            if batch.status == "open":
                break
            number += 1
        payout.batch = batch
        payout.save(update_fields=["batch"])


class Migration(migrations.Migration):
    dependencies = [("rewards", "0008_payout_cancel_reason")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
