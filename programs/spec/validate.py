"""Spec validation as a pure function: every problem, each with its field path."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.utils.translation import gettext as _
from jsonschema import Draft202012Validator, FormatChecker

from referral_platform.core.forms import too_many_decimals
from referral_platform.core.money import format_minor, max_minor
from referral_platform.core.net import is_web_url

from ..engine.experiments import spec_for_variants
from .schema import COPY_LANGUAGES, SCHEMA
from .units import money_paths, points_paths

_validator = Draft202012Validator(SCHEMA, format_checker=FormatChecker())
_TEXT_FORMS = SCHEMA["$defs"]["text"]["anyOf"]
_REQUIRED = re.compile(r"'([^']+)' is a required property")
_EXTRA = re.compile(r"\('([^']+)' was unexpected\)|'([^']+)' was unexpected")


@dataclass(frozen=True)
class Problem:
    path: str
    message: str


def format_path(parts) -> str:
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def iter_items(spec: dict) -> Iterator[tuple[str, dict, str]]:
    """Every reward rule in the spec: (path, item, source) — source is the reason prefix."""
    for s, stage in enumerate(spec.get("stages") or []):
        for r, item in enumerate(stage.get("rewards") or []):
            yield f"stages[{s}].rewards[{r}]", item, "stage"
    for t, tier in enumerate(spec.get("tiers") or []):
        for r, item in enumerate(tier.get("rewards") or []):
            yield f"tiers[{t}].rewards[{r}]", item, "tier"
    for p, prize in enumerate((spec.get("season") or {}).get("prizes") or []):
        if isinstance(prize.get("reward"), dict):
            yield f"season.prizes[{p}].reward", prize["reward"], "season"
    for c, cap in enumerate(spec.get("caps") or []):
        if isinstance(cap.get("honor"), dict):
            yield f"caps[{c}].honor", cap["honor"], "honor"
    for b, bonus in enumerate(spec.get("segment_bonuses") or []):
        for r, item in enumerate(bonus.get("rewards") or []):
            yield f"segment_bonuses[{b}].rewards[{r}]", item, "bonus"
    for r, item in enumerate((spec.get("surprise") or {}).get("rewards") or []):
        yield f"surprise.rewards[{r}]", item, "bonus"
    team = spec.get("team") or {}
    for name in ("member_reward", "member_reward_long", "leader_reward"):
        if isinstance(team.get(name), dict):
            yield f"team.{name}", team[name], "bonus"
    amb = spec.get("ambassador") or {}
    if isinstance(amb.get("reward"), dict):
        yield "ambassador.reward", amb["reward"], "bonus"


def validate_spec(spec) -> list[Problem]:
    """All problems of a spec (empty = valid): structure first, then cross-references."""
    if not isinstance(spec, dict):
        return [Problem("non_field_errors", _("A program spec must be a JSON object."))]
    problems: list[Problem] = []
    for error in sorted(
        _validator.iter_errors(spec), key=lambda e: list(map(str, e.absolute_path))
    ):
        parts = list(error.absolute_path)
        message = error.message
        if error.validator == "required":
            match = _REQUIRED.search(error.message)
            if match:
                parts.append(match.group(1))
                message = _("This field is required.")
        elif error.validator == "additionalProperties":
            match = _EXTRA.search(error.message)
            if match:
                parts.append(match.group(1) or match.group(2))
                message = _("Unknown field.")
        elif error.validator == "anyOf" and error.validator_value == _TEXT_FORMS:
            # A copy text: the problem of the form it was written in (one string, or one
            # per language), at the language's own path.
            form = 1 if isinstance(error.instance, dict) else 0
            inner = [e for e in error.context if e.relative_schema_path[0] == form]
            if isinstance(error.instance, (str, dict)) and inner:
                parts = list(inner[0].absolute_path)
                message = _schema_message(inner[0]) or inner[0].message
            else:
                message = _("Expected a text, or one text per language (%(languages)s).") % {
                    "languages": ", ".join(COPY_LANGUAGES)
                }
        elif error.validator == "type" and _per_language(error.schema):
            message = _("Expected one per language code (%(languages)s).") % {
                "languages": ", ".join(COPY_LANGUAGES)
            }
        elif error.validator == "oneOf":
            message = _(
                "Not a valid condition: use {field, op, value}, {segment}, {all}, {any} or {not}."
            )
        else:
            message = _schema_message(error) or message
        problems.append(Problem(format_path(parts) or "non_field_errors", message))
    if problems:
        return problems
    return _semantic_problems(spec)


def _per_language(schema) -> bool:
    """An object keyed by language code (the FAQ, the terms)."""
    return (schema.get("propertyNames") or {}).get("enum") == COPY_LANGUAGES


def _schema_message(error) -> str | None:
    """JSON Schema's own words, in the reader's language."""
    v, arg = error.validator, error.validator_value
    messages = {
        "minimum": lambda: _("Must be at least %(n)s.") % {"n": arg},
        "maximum": lambda: _("Must be at most %(n)s.") % {"n": arg},
        "enum": lambda: (
            _("Pick one of: %(choices)s.")
            % {"choices": ", ".join("none" if c is None else str(c) for c in arg)}
        ),
        "type": lambda: (
            _("Expected %(type)s.")
            % {
                "type": {
                    "integer": _("a whole number"),
                    "number": _("a number"),
                    "string": _("text"),
                    "boolean": _("yes or no"),
                    "object": _("a group of fields"),
                    "array": _("a list"),
                }.get(arg if isinstance(arg, str) else arg[0], arg)
            }
        ),
        "minLength": lambda: _("This field is required."),
        "maxLength": lambda: _("At most %(n)s characters.") % {"n": arg},
        "minItems": lambda: _("Add at least %(n)s.") % {"n": arg},
        "maxItems": lambda: _("At most %(n)s entries.") % {"n": arg},
        "uniqueItems": lambda: _("Each value only once."),
        "const": lambda: _("Must be %(v)s.") % {"v": arg},
        "format": lambda: _("Enter a date and time.") if arg == "date-time" else None,
        "pattern": lambda: (
            _("Use lowercase letters, digits, - and _ (a letter or digit first).")
            if "a-z0-9" in str(arg) and "stage" not in str(arg)
            else _("Not in the expected form (%(p)s).") % {"p": arg}
        ),
        "minProperties": lambda: _("This field is required."),
        "maxProperties": lambda: _("Give only one of these."),
    }
    make = messages.get(v)
    return make() if make else None


_WEB_URL = URLValidator(schemes=["http", "https"])


def _landing_url_ok(url: str) -> bool:
    try:
        _WEB_URL(url)
    except ValidationError:
        return False
    return is_web_url(url)


def _dt(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _semantic_problems(spec: dict) -> list[Problem]:
    problems: list[Problem] = _size_problems(spec)
    add = lambda path, msg: problems.append(Problem(path, msg))  # noqa: E731

    if (
        spec.get("starts_at")
        and spec.get("ends_at")
        and _dt(spec["ends_at"]) <= _dt(spec["starts_at"])
    ):
        add("ends_at", _("The end must be after the start."))
    if spec.get("landing_url") and not _landing_url_ok(spec["landing_url"]):
        add("landing_url", _("Use an absolute http or https URL, e.g. https://shop.example.com/."))

    stage_keys: list[str] = []
    successes = 0
    for s, stage in enumerate(spec["stages"]):
        if stage["key"] in stage_keys:
            add(f"stages[{s}].key", _("Stage keys must be unique."))
        cond = stage["condition"]
        for name in ("after_stage",):
            if cond.get(name) and cond[name] not in stage_keys:
                add(f"stages[{s}].condition.{name}", _("Name an earlier stage."))
        if cond.get("within_days_of_stage") is not None and not cond.get("after_stage"):
            add(f"stages[{s}].condition.within_days_of_stage", _("Needs after_stage."))
        anchor = (stage.get("hold") or {}).get("anchor", "event")
        if anchor.startswith("stage:") and anchor[6:] not in stage_keys:
            add(f"stages[{s}].hold.anchor", _("Name an earlier stage."))
        stage_keys.append(stage["key"])
        successes += bool(stage.get("success"))
        for r, item in enumerate(stage.get("rewards") or []):
            if "side" not in item:
                add(f"stages[{s}].rewards[{r}].side", _("Say who gets it: referrer or referee."))
    if successes > 1:
        add("stages", _("Only one stage can be the success."))

    item_keys: dict[str, str] = {}
    for path, item, _source in iter_items(spec):
        if item["key"] in item_keys:
            add(
                f"{path}.key",
                _("Reward keys must be unique in the program (also used at %(path)s).")
                % {"path": item_keys[item["key"]]},
            )
        else:
            item_keys[item["key"]] = path
        problems.extend(_value_problems(path, item))
        options = item.get("options") or []
        option_keys = [o["key"] for o in options]
        if len(set(option_keys)) != len(option_keys):
            add(f"{path}.options", _("Option keys must be unique."))
        for o, option in enumerate(options):
            problems.extend(_value_problems(f"{path}.options[{o}]", option))
        if options and item.get("default_option") not in option_keys:
            add(f"{path}.default_option", _("Name one of the options as the default."))
        if not options and item.get("default_option"):
            add(f"{path}.default_option", _("A default needs options."))

    for t, tier in enumerate(spec.get("tiers") or []):
        counts = tier.get("counts", "success")
        if counts.startswith("stage:") and counts[6:] not in stage_keys:
            add(f"tiers[{t}].counts", _("Unknown stage."))
    season = spec.get("season") or {}
    metric = season.get("metric", "success")
    if metric.startswith("stage:") and metric[6:] not in stage_keys:
        add("season.metric", _("Unknown stage."))
    ranks = [p["rank"] for p in season.get("prizes") or []]
    if len(set(ranks)) != len(ranks):
        add("season.prizes", _("One prize per rank."))

    stage_item_keys = {
        item["key"] for _p, item, source in iter_items(spec) if source in ("stage", "bonus")
    }
    cap_keys: set[str] = set()
    for c, cap in enumerate(spec.get("caps") or []):
        if cap["key"] in cap_keys:
            add(f"caps[{c}].key", _("Cap keys must be unique."))
        cap_keys.add(cap["key"])
        for i, key in enumerate(cap.get("items") or []):
            if key not in stage_item_keys:
                add(f"caps[{c}].items[{i}]", _("Unknown reward key."))
        if cap.get("overflow") == "honor" and "honor" not in cap:
            add(f"caps[{c}].honor", _("Say what a capped success earns instead."))
    all_item_keys = set(item_keys)
    for b, boost in enumerate(spec.get("boosts") or []):
        windows = sum(
            (bool(boost.get("starts_at") or boost.get("ends_at")), "every_year" in boost,
             "first_days" in boost)
        )  # fmt: skip
        if windows != 1:
            add(
                f"boosts[{b}].starts_at",
                _("Give the boost one window: dates, every year, or the program's first days."),
            )
        elif boost.get("starts_at") or boost.get("ends_at"):
            if not (boost.get("starts_at") and boost.get("ends_at")):
                add(f"boosts[{b}].ends_at", _("Give both the start and the end."))
            elif _dt(boost["ends_at"]) <= _dt(boost["starts_at"]):
                add(f"boosts[{b}].ends_at", _("The end must be after the start."))
        elif "first_days" in boost and not spec.get("starts_at"):
            add(f"boosts[{b}].first_days", _("The program's first days need a start date."))
        for i, key in enumerate(boost.get("items") or []):
            if key not in all_item_keys:
                add(f"boosts[{b}].items[{i}]", _("Unknown reward key."))
        if boost["mode"] == "multiply" and not boost.get("factor"):
            add(f"boosts[{b}].factor", _("A multiplying boost needs a factor."))
        if boost["mode"] == "replace" and not (boost.get("set") or boost.get("options_set")):
            add(f"boosts[{b}].set", _("A replacing boost needs the values it sets."))
    team = spec.get("team") or {}
    if team and team["max_members"] < team["min_members"]:
        add("team.max_members", _("Must be at least min_members."))
    lottery = spec.get("lottery") or {}
    draw_keys = [d["key"] for d in lottery.get("draws") or []]
    if len(set(draw_keys)) != len(draw_keys):
        add("lottery.draws", _("Draw keys must be unique."))
    experiment_keys: list[str] = []
    for e, experiment in enumerate(spec.get("experiments") or []):
        if experiment["key"] in experiment_keys:
            add(f"experiments[{e}].key", _("Experiment keys must be unique."))
        experiment_keys.append(experiment["key"])
        if sum(v["weight"] for v in experiment["variants"]) <= 0:
            add(f"experiments[{e}].variants", _("Weights must add up to more than zero."))
        variant_keys = [v["key"] for v in experiment["variants"]]
        if len(set(variant_keys)) != len(variant_keys):
            add(f"experiments[{e}].variants", _("Variant keys must be unique."))
        for v, variant in enumerate(experiment["variants"]):
            problems.extend(_override_problems(spec, experiment["key"], variant, e, v))
    problems.extend(_copy_problems(spec))
    percent = (spec.get("holdout") or {}).get("percent")
    if percent is not None and round(percent * 100) != percent * 100:
        add("holdout.percent", str(too_many_decimals(2).messages[0]))
    return problems


# The most points one item may give: a bigint's sum of many stays far from its limit.
MAX_POINTS = 10**12


def _size_problems(spec: dict) -> list[Problem]:
    """Amounts and points beyond what any program pays: a spec holding one would be saved,
    then fail on the first event that earns it (the database refuses the row)."""
    currency = spec.get("currency") or "CNY"
    most = max_minor(currency)
    problems = [
        Problem(path, _("Must be at most %(amount)s.") % {"amount": format_minor(most, currency)})
        for path, value in money_paths(spec)
        if abs(value) > most
    ]
    problems += [
        Problem(path, _("Must be at most %(points)s points.") % {"points": f"{MAX_POINTS:,}"})
        for path, value in points_paths(spec)
        if abs(value) > MAX_POINTS
    ]
    return problems


def _copy_problems(spec: dict) -> list[Problem]:
    """An FAQ entry or terms of blanks only would show as an empty question or section."""
    out = []
    for language, entries in (spec.get("faq") or {}).items():
        for e, entry in enumerate(entries):
            for name in ("question", "answer"):
                if not entry[name].strip():
                    out.append(Problem(f"faq.{language}[{e}].{name}", _("This field is required.")))
    for language, text in (spec.get("terms") or {}).items():
        if not text.strip():
            out.append(Problem(f"terms.{language}", _("This field is required.")))
    return out


# What only the program as a whole can be: a variant changes the rules, not the program.
_PROGRAM_LEVEL = frozenset(
    {
        "spec_version",
        "slug",
        "status",
        "currency",
        "starts_at",
        "ends_at",
        "experiments",
        "holdout",
    }
)


def _override_problems(spec: dict, experiment_key: str, variant: dict, e: int, v: int):
    """A variant's overrides must leave a valid spec: the engine evaluates the participants
    assigned to it under the merged spec (SEMANTICS §5)."""
    path = f"experiments[{e}].variants[{v}].overrides"
    overrides = variant.get("overrides") or {}
    fixed = sorted(_PROGRAM_LEVEL & set(overrides))
    if fixed:
        return [Problem(f"{path}.{key}", _("A variant cannot change this.")) for key in fixed]
    if not overrides:
        return []
    merged = spec_for_variants(spec, {experiment_key: variant["key"]})
    del merged["experiments"]
    return [
        Problem(
            path,
            _("With this variant, %(path)s: %(message)s")
            % {"path": problem.path, "message": problem.message},
        )
        for problem in validate_spec(merged)
    ]


def _value_problems(path: str, item: dict) -> list[Problem]:
    kind = item.get("kind")
    out: list[Problem] = []
    if kind in ("cash", "donation") and item.get("amount") is None:
        out.append(
            Problem(f"{path}.amount", _("A %(kind)s reward needs an amount.") % {"kind": kind})
        )
    if (
        kind == "coupon"
        and item.get("amount") is None
        and item.get("percent_off") is None
        and "options" not in item
    ):
        out.append(Problem(f"{path}.amount", _("A coupon needs an amount or a percent_off.")))
    if kind == "coupon" and item.get("amount") is not None and item.get("percent_off") is not None:
        out.append(
            Problem(f"{path}.percent_off", _("A coupon is either a fixed amount or a percent off."))
        )
    if kind in ("points", "lottery_ticket") and not item.get("points"):
        out.append(Problem(f"{path}.points", _("Say how many points or tickets.")))
    return out
