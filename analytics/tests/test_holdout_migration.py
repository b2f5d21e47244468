"""The holdout a program's analytics targets held moves into its spec: a new version with the
same share and seed, so the same participants stay held out."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from programs.holdout import assigned, in_holdout
from programs.models import Program
from rewards.tests import factories as rf

BEFORE = [("analytics", "0005_customer_retained_30d")]
AFTER = [("analytics", "0006_holdout_moved_to_program_spec")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_the_targets_holdout_becomes_the_specs_with_the_same_members(tenant):
    prog = rf.program(tenant)
    other = rf.program(tenant, slug="other")
    try:
        apps = _migrate(BEFORE)
        targets = apps.get_model("analytics", "ProgramTargets")
        targets.objects.create(
            tenant_id=tenant.pk, program_id=prog.pk, holdout_basis_points=1250, holdout_seed="s1"
        )
        targets.objects.create(tenant_id=tenant.pk, program_id=other.pk, holdout_basis_points=0)
        _migrate(AFTER)
    finally:
        _migrate(AFTER)
    prog = Program.objects.for_tenant(tenant).get(pk=prog.pk)
    assert prog.current_version.number == 2
    assert prog.spec["holdout"] == {"percent": 12.5, "seed": "s1"}
    assert prog.spec["stages"] == rf.SPEC["stages"]
    assert all(in_holdout(prog, pid) == assigned("s1", pid, 1250) for pid in range(1, 500))
    other = Program.objects.for_tenant(tenant).get(pk=other.pk)
    assert other.current_version.number == 1 and "holdout" not in other.spec
