"""Reads for programs."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from django.utils.translation import gettext as _

from referral_platform.core import memo
from referral_platform.core.errors import NotFound

from .models import Program, ProgramVersion


def program_list(tenant):
    return (
        Program.objects.for_tenant(tenant).select_related("current_version").order_by("name", "id")
    )


def program_version_stamp(program_id: int) -> tuple | None:
    """What changes a program's public pages: its version in force and the tenant's colour."""
    return (
        Program.unscoped.filter(pk=program_id)
        .values_list("current_version_id", "tenant__brand_colour")
        .first()
    )


def program_get(tenant, slug: str) -> Program:
    """The tenant's program by slug; another tenant's is as missing as a missing one."""
    program = program_list(tenant).filter(slug=slug).first()
    if program is None:
        raise NotFound(_("No such program."))
    return program


def program_versions(program: Program):
    return (
        ProgramVersion.objects.for_tenant(program.tenant_id)
        .filter(program=program)
        .order_by("-number")
    )


def program_version_get(program: Program, number: int) -> ProgramVersion:
    version = program_versions(program).filter(number=number).first()
    if version is None:
        raise NotFound(_("No such version."))
    return version


def program_version_in_force(program: Program, when: datetime) -> ProgramVersion | None:
    """The version in force at `when` (tiers and seasons use the one in force when reached
    or closed); the first version for anything before it."""
    versions = program_versions(program)
    return versions.filter(created_at__lte=when).first() or versions.order_by("number").first()


def version_spec(version_id: int, read: Callable[[], dict]) -> dict:
    """A program version's rules, as `read` gives them (from a version object, which keeps
    what it read). Versions never change: a chunk of events reads each once
    (`referral_platform.core.memo`)."""
    return memo.once(("program_version_spec", version_id), read)


def program_version_for(referral) -> ProgramVersion:
    """A referral follows the version in force when it was created (SEMANTICS §5)."""
    if getattr(referral, "program_version_id", None):
        return referral.program_version
    return referral.program.current_version


def program_spec(program: Program) -> dict:
    return program.spec
