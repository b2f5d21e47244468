import json

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation

from programs import selectors, services
from programs.models import Program, ProgramVersion
from programs.templates_data import ARCHETYPES
from referral_platform.core.errors import Conflict, NotFound, ValidationFailed
from referral_platform.core.models import AuditEntry

pytestmark = pytest.mark.django_db


def test_program_create_writes_version_one_and_an_audit_entry(tenant, marketer):
    program = services.program_create(
        tenant=tenant, spec=ARCHETYPES["saas-b2b"](year=2026), actor=marketer
    )
    assert program.current_version.number == 1
    assert program.current_version.created_by == marketer
    program.refresh_from_db()
    assert program.starts_at.isoformat() == "2025-12-31T16:00:00+00:00"
    entry = AuditEntry.objects.for_tenant(tenant).get(action="program.created")
    assert entry.actor == marketer and entry.target_id == str(program.pk)


def test_invalid_spec_raises_with_fields_and_writes_nothing(tenant):
    with pytest.raises(ValidationFailed) as info:
        services.program_create(tenant=tenant, spec={"slug": "x"}, actor=None)
    assert set(info.value.fields) == {"name", "currency", "stages"}
    assert not Program.objects.for_tenant(tenant).exists()


def test_status_changes_follow_the_lifecycle_and_make_versions(tenant, marketer):
    spec = ARCHETYPES["green-home"](year=2026)
    spec["status"] = "draft"
    program = services.program_create(tenant=tenant, spec=spec, actor=marketer)
    services.program_set_status(program=program, status="active", actor=marketer)
    program.refresh_from_db()
    assert program.status == "active" and program.spec["status"] == "active"
    services.program_set_status(program=program, status="paused", actor=marketer)
    services.program_set_status(program=program, status="ended", actor=marketer)
    program.refresh_from_db()
    assert program.status == "ended" and program.ends_at is not None
    with pytest.raises(Conflict) as info, translation.override("en"):
        services.program_set_status(program=program, status="active", actor=marketer)
    assert info.value.message == "A program cannot go from “Ended” to “Active”."
    assert list(selectors.program_versions(program).values_list("number", flat=True)) == [
        4,
        3,
        2,
        1,
    ]


def test_an_edit_leaves_the_earlier_version_untouched(tenant):
    program = services.program_create(
        tenant=tenant, spec=ARCHETYPES["green-home"](year=2026), actor=None
    )
    first = program.current_version
    spec = program.spec
    spec["caps"][0]["limit"] = 20
    services.program_update(program=program, spec=spec, actor=None)
    first.refresh_from_db()
    assert first.spec["caps"][0]["limit"] == 10
    assert Program.objects.for_tenant(tenant).get().spec["caps"][0]["limit"] == 20


def test_program_get_hides_other_tenants(tenant, other_tenant):
    services.program_create(
        tenant=other_tenant, spec=ARCHETYPES["green-home"](year=2026), actor=None
    )
    with pytest.raises(NotFound):
        selectors.program_get(tenant, "green-home")


@pytest.mark.parametrize("slug", ["saas-b2b", "green-home", "study-together"])
def test_demo_seed_creates_the_scenario_program_once(tenant, slug):
    first = services.demo_programs_seed(tenant=tenant, slug=slug)
    again = services.demo_programs_seed(tenant=tenant, slug=slug)
    assert first.pk == again.pk
    assert ProgramVersion.objects.for_tenant(tenant).count() == 1
    assert first.status == "active"
    assert first.spec["slug"] == slug


def test_export_then_import_gives_an_identical_program(tenant, other_tenant, tmp_path):
    services.program_create(tenant=tenant, spec=ARCHETYPES["study-together"](year=2026), actor=None)
    path = tmp_path / "program.json"
    call_command("export_program", "acme", "study-together", output=str(path))
    call_command("import_program", "globex", str(path))
    copied = selectors.program_get(other_tenant, "study-together")
    assert copied.spec == selectors.program_get(tenant, "study-together").spec
    assert json.loads(path.read_text()) == copied.spec


def test_importing_an_unchanged_spec_again_makes_no_new_version(tenant, tmp_path):
    path = tmp_path / "p.json"
    path.write_text(json.dumps(ARCHETYPES["green-home"](year=2026)))
    call_command("import_program", "acme", str(path))
    call_command("import_program", "acme", str(path))
    assert ProgramVersion.objects.for_tenant(tenant).count() == 1


def test_importing_an_invalid_spec_names_each_path(tenant, tmp_path):
    spec = ARCHETYPES["green-home"](year=2026)
    spec["stages"][1]["rewards"][0]["amount"] = "lots"
    path = tmp_path / "p.json"
    path.write_text(json.dumps(spec))
    with pytest.raises(CommandError, match=r"stages\[1\]\.rewards\[0\]\.amount"):
        call_command("import_program", "acme", str(path))
