"""The marketer's program builder. Every role reads; owners and marketers edit (403 for the
rest). Each view parses input, calls one service (or a pure function), renders."""

from __future__ import annotations

import copy
import json
from datetime import datetime, time

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from referral_platform.core import clock
from referral_platform.core.errors import DomainError, NotFound
from referral_platform.tenancy.permissions import EDIT_PROGRAMS, has_role, tenant_required

from . import selectors, services
from .checklist import change_impact, launch_checklist
from .engine.estimate import default_stage_rates, estimate_cost
from .engine.rewards import money
from .forms import (
    JSON_SECTIONS,
    GeneralForm,
    NewProgramForm,
    apply_json_section,
    apply_reward_rows,
    json_section_initial,
    reward_rows,
)
from .models import ProgramStatus
from .services import TRANSITIONS, spec_problems_as_fields
from .simulator import EXAMPLE, parse_script, simulate
from .spec.diff import spec_diff
from .spec.units import money_paths, suspicious_amounts
from .summary import summarize

# Lazy: evaluated at import, this list must translate per request.
SECTIONS = [
    ("general", gettext_lazy("General")),
    ("rewards", gettext_lazy("Rewards")),
    *JSON_SECTIONS,
]
SECTION_NAMES = dict(SECTIONS)


def _program(request, slug):
    try:
        return selectors.program_get(request.tenant, slug)
    except NotFound:
        raise Http404 from None


def _context(request, program, **extra):
    return {
        "program": program,
        "can_edit": has_role(request, EDIT_PROGRAMS),
        "sections": SECTIONS,
        **extra,
    }


@tenant_required()
def program_list(request):
    programs = list(selectors.program_list(request.tenant))
    headline = _headline_numbers(request.tenant)
    for program in programs:
        program.enrolled_count = headline["enrolled"].get(program.pk, 0)
        program.referral_count = headline["referrals"].get(program.pk, 0)
    return render(
        request,
        "programs/list.html",
        {"programs": programs, "can_edit": has_role(request, EDIT_PROGRAMS)},
    )


def _headline_numbers(tenant) -> dict:
    """Enrolled referrers and referrals per program, in two grouped queries."""
    from django.db.models import Count

    from tracking.models import Enrollment, Referral

    enrolled = dict(
        Enrollment.objects.for_tenant(tenant).values_list("program_id").annotate(n=Count("id"))
    )
    referrals = dict(
        Referral.objects.for_tenant(tenant).values_list("program_id").annotate(n=Count("id"))
    )
    return {"enrolled": enrolled, "referrals": referrals}


@tenant_required(EDIT_PROGRAMS)
def program_new(request):
    form = NewProgramForm(
        request.POST or None, initial={"template": request.GET.get("template", "green-home")}
    )
    if request.method == "POST" and form.is_valid():
        try:
            program = services.program_from_template(
                tenant=request.tenant, template=form.cleaned_data["template"], slug=form.cleaned_data["slug"],
                name=form.cleaned_data["name"], actor=request.user,
            )  # fmt: skip
        except DomainError as exc:
            for path, problems in exc.fields.items():
                form.add_error(
                    "slug" if path in ("slug", "template") else None, "; ".join(problems)
                )
            if not exc.fields:
                form.add_error(None, exc.message)
        else:
            messages.success(request, _("Program created as a draft."))
            return redirect("programs:detail", slug=program.slug)
    return render(request, "programs/new.html", {"form": form})


@tenant_required()
def program_detail(request, slug):
    program = _program(request, slug)
    transitions = sorted(TRANSITIONS[ProgramStatus(program.status)])
    return render(
        request,
        "programs/detail.html",
        _context(
            request,
            program,
            summary=summarize(program.spec),
            transitions=transitions,
            version=program.current_version,
        ),
    )


def _in_flight(program) -> dict:
    from rewards.selectors import program_rewards_in_flight
    from tracking.selectors import program_referrals_in_flight

    rewards = program_rewards_in_flight(program=program)
    by_version = program_referrals_in_flight(program=program)
    return {
        **rewards,
        "pending_amount": money(rewards["pending_amount_minor"], program.currency),
        "referrals": sum(by_version.values()),
        "by_version": sorted(by_version.items()),
    }


@tenant_required(EDIT_PROGRAMS)
def program_status(request, slug):
    """GET (or a POST without `confirm`): what the change does, and a button to confirm it.
    POST with `confirm`: the change."""
    program = _program(request, slug)
    target = request.POST.get("status") or request.GET.get("to", "")
    allowed = TRANSITIONS[ProgramStatus(program.status)]
    if target not in allowed:
        messages.error(request, _("This program cannot change to that status."))
        return redirect("programs:detail", slug=slug)
    if request.method == "POST" and request.POST.get("confirm"):
        try:
            services.program_set_status(program=program, status=target, actor=request.user)
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(
                request,
                _("The program is now %(status)s.") % {"status": program.get_status_display()},
            )
        return redirect("programs:detail", slug=slug)
    context = _context(request, program, target=target, target_label=ProgramStatus(target).label)
    if target == ProgramStatus.ACTIVE:
        context["checklist"] = launch_checklist(program.spec, now=clock.now())
    if target in (ProgramStatus.PAUSED, ProgramStatus.ENDED) or program.status != "draft":
        context["in_flight"] = _in_flight(program)
    return render(request, "programs/status_confirm.html", context)


def _section_candidate(program, section: str, data) -> tuple[dict, object, dict[str, list[str]]]:
    """The spec as it would be after this section's input, the bound form, and problems."""
    spec = copy.deepcopy(program.spec)
    form = None
    errors: dict[str, list[str]] = {}
    if section == "general":
        form = GeneralForm(data, currency=spec["currency"])
        if form.is_valid():
            spec = form.apply(spec)
        else:
            errors = {k: list(v) for k, v in form.errors.items()}
    elif section == "rewards":
        spec, errors = apply_reward_rows(spec, data)
    else:
        spec, errors = apply_json_section(spec, section, data.get("body", ""))
    if not errors:
        errors = spec_problems_as_fields(spec)
    return spec, form, errors


def _minor_unit_warnings(spec: dict, section: str) -> list[dict]:
    """Cash amounts of this JSON section that look typed in major units (under 100 fen)."""
    return [
        {"path": path, "minor": value, "text": money(value, spec["currency"])}
        for path, value in suspicious_amounts(spec)
        if path.startswith(section)
    ]


def _money_legend(spec: dict, section: str) -> list[dict]:
    """Every money number of a JSON section with what it means in the currency."""
    value = spec.get(section)
    return [
        {"path": f"{section}{'' if path.startswith('[') else '.'}{path}", "minor": minor,
         "text": money(minor, spec["currency"])}
        for path, minor in money_paths(value)
    ][:60]  # fmt: skip


def _section_render(
    request, program, section, *, form=None, errors=None, body=None, spec=None, status=200,
    warnings=None,
):  # fmt: skip
    spec = spec or program.spec
    is_json = section not in ("general", "rewards")
    context = _context(
        request, program, section=section, section_name=SECTION_NAMES[section], errors=errors or {},
        warnings=warnings or [], money_legend=_money_legend(spec, section) if is_json else [],
        currency=spec["currency"],
        form=form or (GeneralForm(initial=GeneralForm.initial_from(spec), currency=spec["currency"]) if section == "general" else None),
        rows=reward_rows(spec) if section == "rewards" else None,
        body=body if body is not None else (json_section_initial(spec, section) if section not in ("general", "rewards") else ""),
    )  # fmt: skip
    return render(request, "programs/section.html", context, status=status)


def needs_live_confirmation(program, spec: dict, data) -> bool:
    """A live (active or paused) program's rules change only after the marketer has seen what
    the change does to referrals in flight."""
    return (
        program.status in (ProgramStatus.ACTIVE, ProgramStatus.PAUSED)
        and spec != program.spec
        and not data.get("confirm_live")
    )


def live_change_preview(request, program, spec: dict, *, section_name: str):
    """The diff of a live program's edit and who it reaches, with the same input carried in
    hidden fields to save it as the next version."""
    carried = [
        (key, value)
        for key, values in request.POST.lists()
        if key not in ("csrfmiddlewaretoken", "confirm_live")
        for value in values
    ]
    context = _context(
        request, program, section_name=section_name, impact=change_impact(program.spec, spec),
        in_flight=_in_flight(program), carried=carried, next_number=program.current_version.number + 1,
        version=program.current_version,
    )  # fmt: skip
    return render(request, "programs/live_change.html", context)


@tenant_required()
def program_section(request, slug, section):
    program = _program(request, slug)
    if section not in SECTION_NAMES:
        raise Http404
    if request.method != "POST":
        return _section_render(request, program, section)
    if not has_role(request, EDIT_PROGRAMS):
        from django.core.exceptions import PermissionDenied

        raise PermissionDenied
    spec, form, errors = _section_candidate(program, section, request.POST)
    warnings = [] if section in ("general", "rewards") else _minor_unit_warnings(spec, section)
    if not errors and warnings and not request.POST.get("confirm_minor_units"):
        return _section_render(
            request, program, section, form=form, body=request.POST.get("body"), spec=spec,
            status=422, warnings=warnings,
        )  # fmt: skip
    if errors:
        return _section_render(
            request,
            program,
            section,
            form=form,
            errors=errors,
            body=request.POST.get("body"),
            spec=spec,
            status=422,
        )
    if needs_live_confirmation(program, spec, request.POST):
        return live_change_preview(request, program, spec, section_name=SECTION_NAMES[section])
    try:
        version = services.program_update(
            program=program, spec=spec, actor=request.user, note=f"edit: {section}"
        )
    except DomainError as exc:
        return _section_render(
            request,
            program,
            section,
            form=form,
            errors=exc.fields or {"": [exc.message]},
            spec=spec,
            status=422,
        )
    messages.success(request, _("Saved as version %(n)s.") % {"n": version.number})
    return redirect("programs:detail", slug=slug)


@require_POST
@tenant_required(EDIT_PROGRAMS)
def program_section_validate(request, slug, section):
    """htmx: the problems the current input would have, without saving anything."""
    program = _program(request, slug)
    if section not in SECTION_NAMES:
        raise Http404
    spec, _form, errors = _section_candidate(program, section, request.POST)
    warnings = [] if section in ("general", "rewards") else _minor_unit_warnings(spec, section)
    return render(
        request,
        "programs/_problems.html",
        {"errors": errors, "warnings": warnings, "checked": True},
    )


@tenant_required()
def program_simulate(request, slug):
    program = _program(request, slug)
    data = request.POST if request.method == "POST" else None
    script = data.get("script", EXAMPLE) if data else EXAMPLE
    start_text = (data.get("start") if data else "") or clock.now().date().isoformat()
    assume_eligible = bool(data.get("assume_eligible")) if data else True
    attributes_text = (data.get("attributes") if data else "") or "{}"
    result, errors = None, []
    if data is not None:
        lines, errors = parse_script(script, program.spec["currency"])
        try:
            attributes = json.loads(attributes_text)
            if not isinstance(attributes, dict):
                raise ValueError
        except ValueError:
            errors.append(_("Referrer attributes must be a JSON object."))
            attributes = {}
        try:
            start = datetime.combine(datetime.fromisoformat(start_text).date(), time(10)).replace(
                tzinfo=request.tenant.calendar.tz
            )
        except ValueError:
            errors.append(_("The start must be a date."))
            start = None
        if not errors and lines and start:
            result = simulate(
                program.spec, lines, start=start, cal=request.tenant.calendar,
                referrer_attributes=attributes, assume_eligible=assume_eligible,
            )  # fmt: skip
    context = _context(
        request, program, script=script, start=start_text, assume_eligible=assume_eligible,
        attributes=attributes_text, result=result, errors=errors,
    )  # fmt: skip
    template = "programs/_simulation.html" if request.htmx else "programs/simulate.html"
    return render(request, template, context)


@tenant_required()
def program_estimate(request, slug):
    program = _program(request, slug)
    spec = program.spec
    stages = spec["stages"]
    defaults = default_stage_rates(spec)
    try:
        monthly = max(0, int(request.GET.get("monthly_referrals", 100)))
        rates = {
            s["key"]: int(request.GET.get(f"rate_{s['key']}", defaults[s["key"]])) for s in stages
        }
    except ValueError:
        monthly, rates = 100, defaults
    estimate = estimate_cost(spec, monthly_referrals=monthly, stage_rates=rates)
    currency = spec["currency"]
    shown = {
        "monthly_cost": money(estimate["monthly_cost"], currency),
        "referrer": money(estimate["referrer"], currency),
        "referee": money(estimate["referee"], currency),
        "cprc": money(estimate["cost_per_referred_customer"], currency)
        if estimate["cost_per_referred_customer"] is not None
        else "—",
        "stages": [
            {
                **s,
                "referrer_text": money(s["referrer"], currency),
                "referee_text": money(s["referee"], currency),
            }
            for s in estimate["stages"]
        ],
    }
    template = "programs/_estimate.html" if request.htmx else "programs/estimate.html"
    return render(
        request,
        template,
        _context(request, program, monthly=monthly, estimate=estimate, shown=shown),
    )


@tenant_required()
def program_versions(request, slug):
    program = _program(request, slug)
    versions = list(selectors.program_versions(program).select_related("created_by"))
    chosen = request.GET.get("v")
    diff, shown = [], None
    by_number = {v.number: v for v in versions}
    if versions:
        shown = by_number.get(int(chosen)) if chosen and chosen.isdigit() else versions[0]
        if shown is None:
            raise Http404
        previous = by_number.get(shown.number - 1)
        diff = spec_diff(previous.spec if previous else {}, shown.spec)
    return render(
        request,
        "programs/versions.html",
        _context(request, program, versions=versions, shown=shown, diff=diff),
    )
