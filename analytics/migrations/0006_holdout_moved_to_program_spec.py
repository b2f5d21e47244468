"""The holdout moves from analytics' program targets into the program spec (`holdout`,
read by `programs.holdout`): every program that held a share out gets a new version whose
spec says so, with the same seed, so the same participants stay held out."""

from django.db import migrations
from django.db.models import Max


def forwards(apps, schema_editor):
    ProgramTargets = apps.get_model("analytics", "ProgramTargets")
    Program = apps.get_model("programs", "Program")
    ProgramVersion = apps.get_model("programs", "ProgramVersion")
    for targets in ProgramTargets.objects.filter(holdout_basis_points__gt=0):
        program = Program.objects.select_related("current_version").get(pk=targets.program_id)
        current = program.current_version
        if current is None or (current.spec or {}).get("holdout"):
            continue
        spec = {
            **current.spec,
            "holdout": {
                "percent": targets.holdout_basis_points / 100,
                "seed": targets.holdout_seed or f"program:{program.pk}",
            },
        }
        number = ProgramVersion.objects.filter(program=program).aggregate(n=Max("number"))["n"]
        version = ProgramVersion.objects.create(
            tenant_id=program.tenant_id,
            program=program,
            number=(number or 0) + 1,
            spec=spec,
            note="holdout moved from the analytics targets",
        )
        program.current_version = version
        program.save(update_fields=["current_version"])


def backwards(apps, schema_editor):
    ProgramTargets = apps.get_model("analytics", "ProgramTargets")
    Program = apps.get_model("programs", "Program")
    for program in Program.objects.select_related("current_version").exclude(
        current_version=None
    ):
        holdout = (program.current_version.spec or {}).get("holdout") or {}
        if holdout.get("percent"):
            ProgramTargets.objects.update_or_create(
                tenant_id=program.tenant_id,
                program=program,
                defaults={
                    "holdout_basis_points": round(holdout["percent"] * 100),
                    "holdout_seed": holdout.get("seed", "")[:40],
                },
            )


class Migration(migrations.Migration):
    dependencies = [
        ("analytics", "0005_customer_retained_30d"),
        ("programs", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(forwards, backwards),
        migrations.RemoveField(model_name="programtargets", name="holdout_basis_points"),
        migrations.RemoveField(model_name="programtargets", name="holdout_seed"),
    ]
