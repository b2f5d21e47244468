"""Writes for programs. A change to the rules is a new ProgramVersion; the Program row only
denormalises what hot paths read (status, dates, landing URL, currency)."""

from __future__ import annotations

import copy

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from referral_platform.core import clock
from referral_platform.core.audit import audit_log
from referral_platform.core.errors import Conflict, ValidationFailed
from referral_platform.core.ports import Port

from .engine.rewards import parse_dt
from .models import Program, ProgramStatus, ProgramVersion
from .spec import validate_spec
from .templates_data import ARCHETYPES

# (program_id) -> None, once a new version has committed: what the apps above keep of the
# program outside the database goes (tracking's cached code entries: destination, status,
# end, holdout, attribution window), so a change reaches the redirect at once.
program_changed = Port("programs.services.program_changed")

# Which status changes a marketer may make; `ended` is final.
TRANSITIONS = {
    ProgramStatus.DRAFT: {ProgramStatus.ACTIVE, ProgramStatus.ENDED},
    ProgramStatus.ACTIVE: {ProgramStatus.PAUSED, ProgramStatus.ENDED},
    ProgramStatus.PAUSED: {ProgramStatus.ACTIVE, ProgramStatus.ENDED},
    ProgramStatus.ENDED: set(),
}


def spec_problems_as_fields(spec) -> dict[str, list[str]]:
    fields: dict[str, list[str]] = {}
    for problem in validate_spec(spec):
        fields.setdefault(problem.path, []).append(problem.message)
    return fields


def _guard_valid(spec) -> dict:
    fields = spec_problems_as_fields(spec)
    if fields:
        raise ValidationFailed(_("The program spec has problems."), fields=fields)
    spec = copy.deepcopy(spec)
    spec.setdefault("spec_version", 1)
    spec.setdefault("status", ProgramStatus.DRAFT)
    return spec


def _denormalise(program: Program, spec: dict) -> None:
    program.name = spec["name"]
    program.status = spec["status"]
    program.currency = spec["currency"]
    program.starts_at = parse_dt(spec.get("starts_at"))
    program.ends_at = parse_dt(spec.get("ends_at"))
    program.landing_url = spec.get("landing_url") or ""


@transaction.atomic
def program_create(*, tenant, spec: dict, actor, note: str = "") -> Program:
    spec = _guard_valid(spec)
    if Program.objects.for_tenant(tenant).filter(slug=spec["slug"]).exists():
        raise Conflict(
            _("A program with this slug exists."),
            code="program_exists",
            fields={"slug": [_("Already used.")]},
        )
    program = Program(tenant=tenant, slug=spec["slug"])
    _denormalise(program, spec)
    try:
        with transaction.atomic():
            program.save()
    except IntegrityError:
        # A concurrent create of the same slug won the unique constraint.
        raise Conflict(
            _("A program with this slug exists."),
            code="program_exists",
            fields={"slug": [_("Already used.")]},
        ) from None
    version = ProgramVersion.unscoped.create(
        tenant=tenant,
        program=program,
        number=1,
        spec=spec,
        note=note or "created",
        created_by=_user(actor),
    )
    program.current_version = version
    program.save(update_fields=["current_version", "updated_at"])
    audit_log(
        tenant=tenant,
        actor=actor,
        action="program.created",
        target=program,
        data={"slug": program.slug, "version": 1},
    )
    return program


@transaction.atomic
def program_update(*, program: Program, spec: dict, actor, note: str = "") -> ProgramVersion:
    """A new version, unless the spec is unchanged (a retried PUT makes no new version)."""
    spec = _guard_valid(spec)
    if spec["slug"] != program.slug:
        raise ValidationFailed(
            _("The program spec has problems."), fields={"slug": [_("The slug cannot change.")]}
        )
    # Lock the program so two editors cannot both take the next version number.
    locked = Program.unscoped.select_for_update().get(pk=program.pk)
    current = locked.current_version
    if current is not None and current.spec == spec:
        return current
    number = (
        ProgramVersion.unscoped.filter(program=locked).aggregate(n=Max("number"))["n"] or 0
    ) + 1
    version = ProgramVersion.unscoped.create(
        tenant=locked.tenant,
        program=locked,
        number=number,
        spec=spec,
        note=note[:200],
        created_by=_user(actor),
    )
    locked.current_version = version
    _denormalise(locked, spec)
    locked.save()
    transaction.on_commit(lambda: program_changed(locked.pk))
    program.refresh_from_db()
    audit_log(
        tenant=locked.tenant, actor=actor, action="program.updated", target=locked,
        data={"version": number, "note": note[:200]},
    )  # fmt: skip
    return version


def program_set_status(*, program: Program, status: str, actor) -> ProgramVersion:
    if status not in ProgramStatus.values:
        raise ValidationFailed(_("Unknown status."), fields={"status": [_("Unknown status.")]})
    if status != program.status and status not in TRANSITIONS[ProgramStatus(program.status)]:
        raise Conflict(
            _("A program cannot go from “%(from)s” to “%(to)s”.")
            % {"from": ProgramStatus(program.status).label, "to": ProgramStatus(status).label},
            code="invalid_transition",
        )
    spec = copy.deepcopy(program.spec)
    spec["status"] = status
    if status == ProgramStatus.ENDED and not spec.get("ends_at"):
        spec["ends_at"] = clock.now().isoformat()
    return program_update(program=program, spec=spec, actor=actor, note=f"status: {status}")


def demo_programs_seed(*, tenant, slug: str) -> Program:
    """The SCENARIOS.md program for a demo slug; running it again changes nothing."""
    existing = Program.objects.for_tenant(tenant).filter(slug=slug).first()
    if existing is not None:
        return existing
    spec = ARCHETYPES[slug](year=clock.now().year)
    spec["currency"] = tenant.currency or spec["currency"]
    return program_create(tenant=tenant, spec=spec, actor=None, note="demo")


def program_from_template(*, tenant, template: str, slug: str, name: str, actor) -> Program:
    """A new draft program from one of the archetypes (or `blank`), under its own slug."""
    from .templates_data import blank_spec

    if template == "blank":
        spec = blank_spec(slug=slug, name=name, currency=tenant.currency)
    else:
        if template not in ARCHETYPES:
            raise ValidationFailed(
                _("Unknown template."), fields={"template": [_("Unknown template.")]}
            )
        spec = ARCHETYPES[template](year=clock.now().year)
        spec.update(slug=slug, name=name or spec["name"], status=ProgramStatus.DRAFT)
    return program_create(tenant=tenant, spec=spec, actor=actor, note=f"from template {template}")


def _user(actor):
    return (
        actor
        if getattr(actor, "pk", None) and hasattr(actor, "email") and not hasattr(actor, "key")
        else None
    )
