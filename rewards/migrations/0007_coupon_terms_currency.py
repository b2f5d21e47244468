"""A percent coupon's cap and minimum spend are money in the program's currency, but its row
was written without one (it has no amount), so its value read "10% off, up to " with the
cap left out. New rows carry the currency; this gives it to the rows written before."""

from django.db import migrations

MONEY_TERMS = ("max_amount", "min_spend")


def forwards(apps, schema_editor):
    Reward = apps.get_model("rewards", "Reward")
    rows = Reward._default_manager.filter(currency="", kind="coupon").select_related("program")
    changed = []
    for reward in rows.iterator(chunk_size=2000):
        details = reward.details or {}
        if any(details.get(key) is not None for key in MONEY_TERMS):
            reward.currency = reward.program.currency
            changed.append(reward)
        if len(changed) >= 2000:
            Reward._default_manager.bulk_update(changed, ["currency"])
            changed = []
    Reward._default_manager.bulk_update(changed, ["currency"])


class Migration(migrations.Migration):
    dependencies = [("rewards", "0006_payout_clawback_offset")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
