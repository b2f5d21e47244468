"""Analytics' writes: its own goals, targets and export jobs, and promoting an experiment's
winner, which goes through the programs service (a new program version)."""

from __future__ import annotations

from datetime import date

from django.db import transaction
from django.utils.translation import gettext as _

from referral_platform.core.audit import audit_log
from referral_platform.core.errors import NotFound, ValidationFailed
from referral_platform.core.tasks import enqueue_on_commit

from .experiments import spec_with_winner
from .models import ExportJob, Goal, GoalMetric, ProgramTargets

EXPORT_KINDS = ("referrals", "rewards", "payouts", "funnel", "kpis")


@transaction.atomic
def goal_create(
    *,
    tenant,
    program,
    metric: str,
    comparator: str,
    target: int,
    starts_on: date,
    ends_on: date,
    note: str = "",
    actor,
) -> Goal:
    if metric not in GoalMetric.values:
        raise ValidationFailed(_("Unknown metric."), fields={"metric": [_("Unknown metric.")]})
    if comparator not in ("ge", "le"):
        raise ValidationFailed(_("Use ≥ or ≤."), fields={"comparator": [_("Use ≥ or ≤.")]})
    if ends_on < starts_on:
        raise ValidationFailed(
            _("The goal ends before it starts."),
            fields={"ends_on": [_("The goal ends before it starts.")]},
        )
    goal = Goal.objects.for_tenant(tenant).create(
        tenant=tenant,
        program=program,
        metric=metric,
        comparator=comparator,
        target=target,
        starts_on=starts_on,
        ends_on=ends_on,
        note=note[:200],
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    audit_log(
        tenant=tenant, actor=actor, action="analytics.goal_created", target=goal,
        data={"metric": metric, "comparator": comparator, "target": target},
    )  # fmt: skip
    return goal


@transaction.atomic
def goal_delete(*, tenant, goal_id: int, actor) -> None:
    goal = Goal.objects.for_tenant(tenant).filter(pk=goal_id).first()
    if goal is None:
        raise NotFound(_("No such goal."))
    audit_log(tenant=tenant, actor=actor, action="analytics.goal_deleted", target=goal, data={})
    goal.delete()


@transaction.atomic
def targets_set(*, tenant, program, actor, **values) -> ProgramTargets:
    allowed = {
        "monthly_budget_minor",
        "target_cpra_minor",
        "acquisition_cost_minor",
        "coverage_alert_basis_points",
    }
    unknown = set(values) - allowed
    if unknown:
        raise ValidationFailed(_("Unknown target."), fields={k: [_("Unknown.")] for k in unknown})
    for key, value in values.items():
        if value is not None and value < 0:
            raise ValidationFailed(_("Targets cannot be negative."), fields={key: [_("≥ 0")]})
    targets, _created = ProgramTargets.objects.for_tenant(tenant).get_or_create(
        tenant=tenant, program=program
    )
    for key, value in values.items():
        setattr(targets, key, value if value is not None or key.endswith("_minor") else 0)
    targets.save()
    audit_log(
        tenant=tenant, actor=actor, action="analytics.targets_set", target=targets,
        data={k: v for k, v in values.items()},
    )  # fmt: skip
    return targets


def experiment_promote(*, program, experiment_key: str, variant_key: str, actor):
    """Stop the experiment and make the winner the program: a new version through the
    programs service, which validates, versions and audits it."""
    from programs.services import program_update

    try:
        spec = spec_with_winner(program.spec, experiment_key, variant_key)
    except KeyError as exc:
        raise NotFound(_("No such experiment or variant.")) from exc
    return program_update(
        program=program,
        spec=spec,
        actor=actor,
        note=f"experiment {experiment_key}: promoted {variant_key}"[:200],
    )


@transaction.atomic
def export_request(*, tenant, kind: str, params: dict, actor) -> ExportJob:
    """A background export; the job is enqueued after commit so the worker finds the row."""
    if kind not in EXPORT_KINDS:
        raise ValidationFailed(_("Unknown export."), fields={"kind": [_("Unknown export.")]})
    job = ExportJob.objects.for_tenant(tenant).create(
        tenant=tenant,
        kind=kind,
        params=params,
        requested_by=actor if getattr(actor, "pk", None) else None,
    )
    from .tasks import export_run_task

    # Not sent (the broker down)? `analytics.exports` sends it again a little later.
    enqueue_on_commit(export_run_task, tenant.pk, job.pk)
    return job
