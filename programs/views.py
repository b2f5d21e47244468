"""The marketer's program builder. Every role reads; owners and marketers edit (403 for the
rest). Each view parses input, calls one service (or a pure function), renders."""

from __future__ import annotations

import copy
import json
import uuid
from datetime import datetime, time

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from referral_platform.core import clock
from referral_platform.core.errors import DomainError, NotFound
from referral_platform.tenancy.permissions import EDIT_PROGRAMS, has_role, tenant_required

from . import readside, selectors, services, specforms
from .checklist import change_impact, launch_checklist
from .engine.estimate import default_stage_rates, estimate_cost
from .engine.rewards import money
from .examples import example_inputs
from .forms import NewProgramForm, apply_json_spec
from .models import ProgramStatus
from .services import TRANSITIONS, spec_problems_as_fields
from .simulator import parse_script, simulate
from .spec import SCHEMA
from .spec.diff import spec_diff
from .spec.units import money_paths, suspicious_amounts
from .summary import summarize

# Lazy: evaluated at import, this list must translate per request.
SECTIONS = [
    *[(slug, title) for slug, title, _keys in specforms.SECTIONS],
    ("advanced", gettext_lazy("Advanced: JSON, import and export")),
]
SECTION_HELP = {
    "general": gettext_lazy("The program's name, dates, landing page and what points are worth."),
    "stages": gettext_lazy(
        "What the friend does, step by step, and what each step earns for each side."
    ),
    "boosts": gettext_lazy(
        "A boost runs on fixed dates, every year in a month or ISO week, or in the program's first days."
    ),
    "holdout": gettext_lazy(
        "Keep a share of participants out of the program to measure what it adds: the "
        "analytics overview compares them with everyone else."
    ),
}
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
    headline = readside.headline_numbers(request.tenant)
    for program in programs:
        program.enrolled_count = headline["enrolled"].get(program.pk, 0)
        program.referral_count = headline["referrals"].get(program.pk, 0)
    return render(
        request,
        "programs/list.html",
        {"programs": programs, "can_edit": has_role(request, EDIT_PROGRAMS)},
    )


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
            return redirect("programs:section", slug=program.slug, section="general")
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
        context["in_flight"] = readside.in_flight(program)
    return render(request, "programs/status_confirm.html", context)


ADVANCED = "advanced"


def _form_context(request, program, section: str) -> specforms.Context:
    return specforms.Context(
        currency=program.spec["currency"],
        tz=request.tenant.calendar.tz,
        url=reverse("programs:section", args=[program.slug, section]),
    )


def _section_candidate(program, section: str, data, ctx, action: str = "") -> tuple[dict, dict]:
    """The spec as it would be after this section's input, and its problems by path."""
    spec = copy.deepcopy(program.spec)
    if section == ADVANCED:
        spec, errors = apply_json_spec(spec, data.get("body", ""))
        return spec, errors or spec_problems_as_fields(spec)
    values = specforms.parse_section(section, data, ctx, action)
    spec = specforms.apply_section(spec, section, values)
    if action:
        return spec, dict(ctx.errors)
    # A value that could not be read explains the spec's problem at the same path.
    return spec, {**spec_problems_as_fields(spec), **ctx.errors}


def _minor_unit_warnings(spec: dict) -> list[dict]:
    """Cash amounts that look typed in major units (under 100 fen)."""
    return [
        {"path": path, "minor": value, "text": money(value, spec["currency"])}
        for path, value in suspicious_amounts(spec)
    ]


def _money_legend(spec: dict) -> list[dict]:
    """Every money number of the spec with what it means in the currency."""
    return [
        {"path": path, "minor": minor, "text": money(minor, spec["currency"])}
        for path, minor in money_paths(spec)
    ]


def _section_render(request, program, section, *, errors=None, spec=None, ctx=None, body=None,
                    status=200, warnings=None):  # fmt: skip
    spec = spec if spec is not None else program.spec
    context = _context(
        request, program, section=section, section_name=SECTION_NAMES[section],
        errors=errors or {}, warnings=warnings or [], currency=spec["currency"],
    )  # fmt: skip
    if section == ADVANCED:
        context["body"] = (
            body if body is not None else json.dumps(spec, indent=2, ensure_ascii=False)
        )
        context["money_legend"] = _money_legend(spec)
    else:
        ctx = ctx or _form_context(request, program, section)
        ctx.errors = errors or {}
        context["form_html"] = specforms.render_section(section, spec, ctx)
        context["nonce"] = uuid.uuid4().hex[:12]  # changes with every redraw (tests wait on it)
        context["section_description"] = SECTION_HELP.get(section, "")
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
        in_flight=readside.in_flight(program), carried=carried, next_number=program.current_version.number + 1,
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
        raise PermissionDenied
    ctx = _form_context(request, program, section)
    action = request.POST.get("_action", "")
    if action == "refresh" and section == ADVANCED:
        # "Back to editing" from the review of a live change: the JSON as it was typed.
        return _section_render(request, program, section, body=request.POST.get("body"))
    if action and section != ADVANCED:
        # Add, move or remove a part, or re-draw a condition: nothing is saved.
        spec, errors = _section_candidate(
            program, section, request.POST, ctx, "" if action == "refresh" else action
        )
        return _section_render(request, program, section, errors=errors, spec=spec, ctx=ctx)
    spec, errors = _section_candidate(program, section, request.POST, ctx)
    body = request.POST.get("body")
    if errors:
        return _section_render(
            request, program, section, errors=errors, spec=spec, ctx=ctx, body=body, status=422
        )
    warnings = _minor_unit_warnings(spec) if section == ADVANCED else []
    if warnings and not request.POST.get("confirm_minor_units"):
        return _section_render(
            request, program, section, spec=spec, body=body, status=422, warnings=warnings
        )
    if needs_live_confirmation(program, spec, request.POST):
        return live_change_preview(request, program, spec, section_name=SECTION_NAMES[section])
    try:
        version = services.program_update(
            program=program, spec=spec, actor=request.user, note=f"edit: {section}"
        )
    except DomainError as exc:
        return _section_render(
            request, program, section, errors=exc.fields or {"": [exc.message]}, spec=spec,
            ctx=ctx, body=body, status=422,
        )  # fmt: skip
    messages.success(request, _("Saved as version %(n)s.") % {"n": version.number})
    if program.status == ProgramStatus.DRAFT and section != ADVANCED:
        following = _next_section(section)
        if following:
            return redirect("programs:section", slug=slug, section=following)
    return redirect("programs:detail", slug=slug)


def _next_section(section: str) -> str | None:
    slugs = [slug for slug, _title, _keys in specforms.SECTIONS]
    index = slugs.index(section)
    return slugs[index + 1] if index + 1 < len(slugs) else None


@require_POST
@tenant_required(EDIT_PROGRAMS)
def program_section_validate(request, slug, section):
    """htmx: the problems the current input would have, without saving anything."""
    program = _program(request, slug)
    if section not in SECTION_NAMES:
        raise Http404
    spec, errors = _section_candidate(
        program, section, request.POST, _form_context(request, program, section)
    )
    warnings = _minor_unit_warnings(spec) if section == ADVANCED else []
    return render(
        request,
        "programs/_problems.html",
        {"errors": errors, "warnings": warnings, "checked": True},
    )


@tenant_required()
def program_export(request, slug):
    """The current spec as a JSON download (what `import_program` and the API take)."""
    program = _program(request, slug)
    response = JsonResponse(program.spec, json_dumps_params={"indent": 2, "ensure_ascii": False})
    response["Content-Disposition"] = f'attachment; filename="{program.slug}.json"'
    return response


@tenant_required()
def program_simulate(request, slug):
    program = _program(request, slug)
    data = request.POST if request.method == "POST" else None
    example_script, example_attributes = example_inputs(program.spec)
    script = data.get("script", example_script) if data else example_script
    start_text = (data.get("start") if data else "") or clock.now().date().isoformat()
    assume_eligible = bool(data.get("assume_eligible")) if data else True
    attributes_text = (data.get("attributes") if data else "") or json.dumps(example_attributes)
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


def _schema_rows(schema: dict, path: str = ""):
    """(path, title, description, unit) of every field, the shared definitions inlined."""
    for name, child in (schema.get("properties") or {}).items():
        child_path = f"{path}.{name}" if path else name
        if child.get("description"):
            yield (
                child_path,
                child.get("title", name),
                child["description"],
                child.get("x-unit", ""),
            )
        target = (
            specforms.resolve(child)
            if "$ref" in child and "condition" not in child["$ref"]
            else child
        )
        yield from _schema_rows(target, child_path)
    for key in ("items", "additionalProperties"):
        value = schema.get(key)
        if isinstance(value, dict):
            if "$ref" in value and "condition" not in value["$ref"]:
                value = specforms.resolve(value)
            yield from _schema_rows(value, f"{path}[]")


@tenant_required()
def spec_reference(request):
    """Every field of the program spec with its meaning and unit, in the reader's language."""
    units = {
        "minor": _("minor units of the currency (5000 = ¥50.00)"), "days": _("days"),
        "business_days": _("business days"), "percent": "%", "months": _("months"),
        "weeks": _("weeks"), "points": _("points"), "count": _("a count"),
        "count|minor": _("a count, or minor units for an amount cap"), "factor": _("a factor"),
        "date-time": _("date and time"), "key": _("a key"), "text": _("text"),
        "choice": _("one of the choices"), "boolean": _("yes or no"),
        "condition": _("a condition"), "list": _("a list"), "object": _("a group of fields"),
    }  # fmt: skip
    rows = [
        {
            "path": path,
            "title": _(title),
            "description": _(description),
            "unit": units.get(unit, unit),
        }
        for path, title, description, unit in _schema_rows(SCHEMA)
    ]
    return render(request, "programs/spec_reference.html", {"rows": rows})


@tenant_required()
def spec_schema(request):
    """The JSON Schema of a program spec, for signed-in staff (the API's needs a key)."""
    return JsonResponse(SCHEMA, json_dumps_params={"indent": 2, "ensure_ascii": False})
