"""The builder's forms, generated from the spec's JSON Schema (`spec/schema.py`): one form per
section of the spec, every field labelled and explained from `spec/docs.py`, money typed in
the currency's major unit, repeating parts added, moved and removed in place.

Inputs are named by their spec path (`stages[0].rewards[1].amount`), so the spec's own
problems (`validate_spec` paths) land next to the field they are about. Three markers ride
along: `<path>.__present` (an optional object is there), `<path>.__type` (which kind of
condition a node is) and `<path>.__key` (the key of a map entry, e.g. a boost's option).

    data → raw tree (`raw_tree`) → actions (`apply_action`) → spec fragment (`parse_section`)
    spec fragment → HTML (`render_section`)
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from referral_platform.core.forms import too_many_decimals
from referral_platform.core.money import exponent, format_minor, to_major, to_minor

from .spec import SCHEMA
from .spec.schema import COPY_LANGUAGES

# (slug, title, the top-level spec keys it edits)
SECTIONS = [
    ("general", gettext_lazy("General"), ["name", "starts_at", "ends_at", "landing_url", "clawback_days", "point_value", "estimates"]),
    ("copy", gettext_lazy("Offer, share texts, FAQ and terms"), ["offer", "share_copy", "faq", "terms"]),
    ("eligibility", gettext_lazy("Eligibility"), ["eligibility", "first_team_of_company_only"]),
    ("attribution", gettext_lazy("Attribution"), ["attribution"]),
    ("stages", gettext_lazy("Stages and rewards"), ["stages"]),
    ("tiers", gettext_lazy("Tiers and ladders"), ["tiers"]),
    ("caps", gettext_lazy("Caps and budget"), ["caps", "budget", "referee_discount_cap"]),
    ("boosts", gettext_lazy("Boosts"), ["boosts"]),
    ("bonuses", gettext_lazy("Segment and surprise bonuses"), ["segment_bonuses", "surprise"]),
    ("season", gettext_lazy("Season and leaderboard"), ["season"]),
    ("lottery", gettext_lazy("Lottery"), ["lottery"]),
    ("team", gettext_lazy("Team enrolment"), ["team"]),
    ("charity", gettext_lazy("Charity matching"), ["charity"]),
    ("points", gettext_lazy("Points and catalogue"), ["points"]),
    ("ambassador", gettext_lazy("Ambassador status"), ["ambassador"]),
    ("experiments", gettext_lazy("Experiments"), ["experiments"]),
    ("holdout", gettext_lazy("Holdout"), ["holdout"]),
]  # fmt: skip
SECTION_KEYS = {slug: keys for slug, _title, keys in SECTIONS}

CONDITION_TYPES = [
    ("field", gettext_lazy("A field test")),
    ("segment", gettext_lazy("In a segment")),
    ("all", gettext_lazy("All of")),
    ("any", gettext_lazy("Any of")),
    ("not", gettext_lazy("Not")),
]
CHOICE_TEXT = {
    "referrer": gettext_lazy("referrer"), "referee": gettext_lazy("friend (referee)"),
    "cash": gettext_lazy("cash"), "coupon": gettext_lazy("coupon"), "points": gettext_lazy("points"),
    "credit": gettext_lazy("credit (free time)"), "perk": gettext_lazy("perk"),
    "lottery_ticket": gettext_lazy("lottery ticket"), "donation": gettext_lazy("donation"),
    "signup": gettext_lazy("sign-up"), "qualified_lead": gettext_lazy("qualified lead"),
    "purchase": gettext_lazy("purchase"), "refund": gettext_lazy("refund"),
    "activity": gettext_lazy("activity"), "share": gettext_lazy("share"),
    "day": gettext_lazy("day"), "week": gettext_lazy("week"), "month": gettext_lazy("month"),
    "quarter": gettext_lazy("quarter"), "year": gettext_lazy("year"), "season": gettext_lazy("season"),
    "lifetime": gettext_lazy("lifetime"), "first": gettext_lazy("first touch"),
    "last": gettext_lazy("last touch"), "multiply": gettext_lazy("multiply"),
    "replace": gettext_lazy("replace values"), "items": gettext_lazy("the listed items"),
    "ladder": gettext_lazy("ladder progress"), "count": gettext_lazy("count of referrals"),
    "amount": gettext_lazy("amount of money"), "nothing": gettext_lazy("nothing"),
    "honor": gettext_lazy("an honour item"), "beneficiary": gettext_lazy("the beneficiary"),
    "checkout": gettext_lazy("the friend at checkout"), "weekly": gettext_lazy("weekly"),
    "monthly": gettext_lazy("monthly"), "qualified": gettext_lazy("qualified"),
    "converted": gettext_lazy("converted"), "retained": gettext_lazy("retained"),
    "eq": "=", "ne": "≠", "gt": ">", "gte": "≥", "lt": "<", "lte": "≤",
    "in": gettext_lazy("is one of"), "not_in": gettext_lazy("is none of"),
    "exists": gettext_lazy("is known"), "truthy": gettext_lazy("is yes"), "falsy": gettext_lazy("is no"),
    "days_since_gte": gettext_lazy("at least N days ago"), "days_since_lte": gettext_lazy("at most N days ago"),
}  # fmt: skip
# A field's own words for its choices, where the shared ones above would not say enough.
FIELD_CHOICE_TEXT = {
    "for": {
        "everyone": gettext_lazy("everyone"),
        "referrer": gettext_lazy("referrers on their portal"),
        "friend": gettext_lazy("invited friends on the invite page"),
    },
}
LONG_TEXT = {"description", "body", "headline"}
_CONDITION_SHAPES = {
    "field": SCHEMA["$defs"]["condition"]["oneOf"][0],
    "segment": SCHEMA["$defs"]["condition"]["oneOf"][1],
}
_MISSING = object()
# The JSON shape a spec description shows (`: {"en": …, "zh-hans": …}`): the forms have a
# field per language instead.
_SHAPE_REMARK = re.compile(r'\s*[:：]\s*\{"en": [^}]*\}')


def _described(schema: dict) -> str:
    """The field's description as a form hint: translated, without the JSON shape."""
    if not schema.get("description"):
        return ""
    return _SHAPE_REMARK.sub("", _(schema["description"]))


# How the spec's descriptions name minor units, which the forms do not use.
_MINOR_REMARK = re.compile(
    r"\s*\((?:in )?minor units[^)]*\)|,? in minor units(?: of the program's currency)?|"
    r"（最小单位[^）]*）|，?以计划货币的最小单位计|（最小单位；[^）]*）"
)
_TOKEN = re.compile(r"([^.\[\]]+)|\[(\d+)\]")
# The language names beside a copy text's fields (one field per language).
LANGUAGE_NAMES = {"en": gettext_lazy("English"), "zh-hans": gettext_lazy("Simplified Chinese")}
# What a variant of an experiment can change in words: the copy, per language. Its other
# overrides (rules, rewards) stay JSON, beside these fields.
_VARIANT_OVERRIDES = re.compile(r"^experiments\[\d+\]\.variants\[\d+\]\.overrides$")
_COPY_KEYS = ("offer", "share_copy")


@dataclass
class Context:
    currency: str
    tz: object
    url: str
    errors: dict[str, list[str]] = field(default_factory=dict)
    bad_raw: dict[str, str] = field(default_factory=dict)
    # The kind chosen for each condition node, kept while its fields are still empty.
    types: dict[str, str] = field(default_factory=dict)


# ---------------------------------------------------------------- schema helpers


def resolve(schema: dict) -> dict:
    ref = schema.get("$ref")
    if not ref:
        return schema
    target = SCHEMA["$defs"][ref.rsplit("/", 1)[1]]
    return {**target, **{k: v for k, v in schema.items() if k != "$ref"}}


def _is_condition(schema: dict) -> bool:
    return schema.get("$ref") == "#/$defs/condition"


def _is_text(schema: dict) -> bool:
    """A copy text: one string, or one per language (`$defs/text`)."""
    return schema.get("$ref") == "#/$defs/text"


def _type(schema: dict) -> str:
    t = schema.get("type")
    if isinstance(t, list):
        t = next(x for x in t if x != "null")
    if t:
        return t
    if "enum" in schema:
        return "enum"
    return "any"


def _title(schema: dict, name: str) -> str:
    return _(schema["title"]) if schema.get("title") else name.replace("_", " ").capitalize()


def parse_path(path: str) -> list:
    return [int(i) if i else n for n, i in _TOKEN.findall(path)]


def path_label(path: str) -> str:
    """A spec path as the builder names its field: `stages[1].rewards[0].amount` →
    "Stages 2 › Rewards 1 › Amount" (in the page's language); the path itself where the
    schema does not know it."""
    parts = parse_path(path)
    if not parts:
        return path
    words: list[str] = []
    for index, part in enumerate(parts):
        if isinstance(part, int):
            if words:
                words[-1] = f"{words[-1]} {part + 1}"
            continue
        schema = _schema_at(parts[: index + 1])
        if schema is None:
            return path
        words.append(_title(resolve(schema), str(part)))
    return " › ".join(words)


def join_path(path: str, part) -> str:
    if isinstance(part, int):
        return f"{path}[{part}]"
    return f"{path}.{part}" if path else part


def _dom_id(path: str) -> str:
    return "f-" + re.sub(r"[^A-Za-z0-9]+", "-", path).strip("-")


# ---------------------------------------------------------------- raw input


def raw_tree(data) -> dict:
    """The posted fields as a nested dict (list positions as int keys). Browsers send a
    textarea's line breaks as CRLF: the spec keeps plain LF, as the JSON view writes it."""
    root: dict = {}
    for key in data:
        if key.startswith("_") or key in (
            "csrfmiddlewaretoken",
            "confirm_live",
            "confirm_minor_units",
        ):
            continue
        parts = parse_path(key)
        if parts:
            value = data.get(key)
            if isinstance(value, str):
                value = value.replace("\r\n", "\n").replace("\r", "\n")
            _parent_of(root, parts)[parts[-1]] = value
    return root


def _parent_of(root: dict, parts: list) -> dict:
    """The dict that holds `parts[-1]`, made on the way where missing."""
    node = root
    for part in parts[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            child = node[part] = {}
        node = child
    return node


def _schema_at(parts: list) -> dict | None:
    schema: dict | None = {"type": "object", "properties": SCHEMA["properties"]}
    for part in parts:
        schema = resolve(schema)
        if isinstance(part, int):
            schema = (
                schema.get("items")
                if _type(schema) == "array"
                else schema.get("additionalProperties")
            )
        elif _is_condition_schema(schema):
            schema = (
                {"$ref": "#/$defs/condition"}
                if part in ("not",)
                else (
                    {"type": "array", "items": {"$ref": "#/$defs/condition"}}
                    if part in ("all", "any")
                    else {}
                )
            )
        elif "properties" in schema:
            schema = schema["properties"].get(part)
        else:
            # An entry of an object keyed by name (the FAQ's list in one language).
            extra = schema.get("additionalProperties")
            schema = extra if isinstance(extra, dict) else None
        if schema is None:
            return None
    return schema


def _is_condition_schema(schema: dict) -> bool:
    return any("segment" in (o.get("properties") or {}) for o in schema.get("oneOf") or ())


def apply_action(tree: dict, action: str) -> None:
    """`add:<path>`, `remove:<path>`, `up:<path>`, `down:<path>` on the raw tree."""
    verb, _sep, path = action.partition(":")
    parts = parse_path(path)
    if not parts or verb not in ("add", "remove", "up", "down"):
        return
    parent = _parent_of(tree, parts)
    last = parts[-1]
    if verb == "add":
        schema = _schema_at(parts)
        if schema is not None and _type(resolve(schema)) == "array" and not _is_scalar_list(schema):
            node = parent.get(last)
            if not isinstance(node, dict):
                node = parent[last] = {}
            index = max([k for k in node if isinstance(k, int)], default=-1) + 1
            node[index] = {"__new": "1"}
        elif schema is not None and _is_map(resolve(schema)):
            node = parent.setdefault(last, {})
            node["__present"] = "1"
            index = max([k for k in node if isinstance(k, int)], default=-1) + 1
            node[index] = {"__key": ""}
        else:
            node = parent.get(last)
            if not isinstance(node, dict):
                node = parent[last] = {}
            node["__present"] = "1"
    elif verb == "remove":
        parent.pop(last, None)
    elif isinstance(last, int):
        keys = sorted(k for k in parent if isinstance(k, int))
        if last not in keys:
            return
        at = keys.index(last)
        other = at - 1 if verb == "up" else at + 1
        if 0 <= other < len(keys):
            a, b = keys[at], keys[other]
            parent[a], parent[b] = parent[b], parent[a]


def _is_scalar_list(schema: dict) -> bool:
    schema = resolve(schema)
    items = schema.get("items") or {}
    return "anyOf" in items or (items.get("type") == "string")


def _is_map(schema: dict) -> bool:
    extra = schema.get("additionalProperties")
    return isinstance(extra, dict) and "properties" in extra and "properties" not in schema


# ---------------------------------------------------------------- parsing


class _Parser:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def error(self, path: str, message: str, raw: str) -> object:
        self.ctx.errors.setdefault(path, []).append(message)
        self.ctx.bad_raw[path] = raw
        return _MISSING

    def value(self, schema: dict, raw, path: str, *, required: bool = False, siblings=None):
        if _is_condition(schema):
            return self.condition(raw, path, required=required)
        if _is_text(schema):
            return self.text(raw)
        schema = resolve(schema)
        if "const" in schema:
            return _MISSING
        kind = _type(schema)
        if kind == "object":
            return self.object(schema, raw, path, required=required)
        if kind == "array":
            return self.array(schema, raw, path, required=required)
        text = raw.strip() if isinstance(raw, str) else ""
        if "enum" in schema:
            if text == "":
                return _MISSING
            value = None if text == "null" else text
            if value not in schema["enum"]:
                return self.error(path, _("Pick one of the choices."), text)
            # A choice's default is what its absence means: it is not written out.
            if "default" in schema and value == schema["default"]:
                return _MISSING
            return value
        if kind == "boolean":
            return {"true": True, "false": False}.get(text, _MISSING)
        if kind in ("integer", "number"):
            return self.number(schema, text, path, siblings or {})
        if kind == "string" and schema.get("format") == "date-time":
            return self.datetime(text, path)
        if kind == "string":
            return text if text else _MISSING
        return self.scalar(text)

    def number(self, schema: dict, text: str, path: str, siblings: dict):
        if text == "":
            return _MISSING
        try:
            number = Decimal(text.replace(",", ""))
        except InvalidOperation:
            return self.error(path, _("Enter a number."), text)
        if not number.is_finite():
            return self.error(path, _("Enter a number."), text)
        unit = schema.get("x-unit", "")
        money = unit == "minor" or (unit == "count|minor" and siblings.get("measure") == "amount")
        if money:
            try:
                return to_minor(number, self.ctx.currency)
            except ValueError:
                return self.error(
                    path, " ".join(too_many_decimals(exponent(self.ctx.currency)).messages), text
                )
        if number == number.to_integral_value():
            return int(number)
        if _type(schema) == "integer":
            return self.error(path, _("Enter a whole number."), text)
        return float(number)

    def datetime(self, text: str, path: str):
        if text == "":
            return _MISSING
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            return self.error(path, _("Enter a date and time."), text)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=self.ctx.tz)
        return moment.isoformat()

    @staticmethod
    def text(raw):
        """One field per language: {language: text} for those filled in; the same text in
        every language is kept as one string (as a spec written for one language has it)."""
        if isinstance(raw, str):
            return raw.strip() or _MISSING
        raw = raw if isinstance(raw, dict) else {}
        out = {
            code: raw[code].strip()
            for code in COPY_LANGUAGES
            if isinstance(raw.get(code), str) and raw[code].strip()
        }
        if not out:
            return _MISSING
        texts = set(out.values())
        if len(out) == len(COPY_LANGUAGES) and len(texts) == 1:
            return texts.pop()
        return out

    @staticmethod
    def scalar(text: str):
        if text == "":
            return _MISSING
        try:
            value = json.loads(text)
        except ValueError:
            return text
        return value if isinstance(value, (int, float, bool)) else text

    def object(self, schema: dict, raw, path: str, *, required: bool):
        raw = raw if isinstance(raw, dict) else {}
        if not (required or raw.get("__present") or raw.get("__new")):
            return _MISSING
        if _VARIANT_OVERRIDES.match(path):
            return self.overrides(raw, path)
        if "properties" in schema:
            out = {}
            needed = set(schema.get("required") or ())
            for name, child in schema["properties"].items():
                value = self.value(
                    child,
                    raw.get(name),
                    join_path(path, name),
                    required=name in needed,
                    siblings=raw,
                )
                if value is not _MISSING:
                    out[name] = value
            return out
        names = (schema.get("propertyNames") or {}).get("enum")
        if names:
            out = {}
            for name in names:
                value = self.value(
                    schema["additionalProperties"], raw.get(name), join_path(path, name)
                )
                if value is not _MISSING:
                    out[name] = value
            return out
        if _is_map(schema):
            out = {}
            for index in sorted(k for k in raw if isinstance(k, int)):
                entry = raw[index] if isinstance(raw[index], dict) else {}
                entry_path = f"{path}[{len(out)}]"
                key = (entry.get("__key") or "").strip()
                value = self.value(
                    schema["additionalProperties"], {**entry, "__new": "1"}, entry_path
                )
                if not key:
                    self.error(f"{entry_path}.__key", _("This field is required."), "")
                out[key] = value
            return out
        text = (raw.get("__json") or "").strip() if isinstance(raw, dict) else ""
        if not text:
            return _MISSING
        try:
            value = json.loads(text)
        except ValueError as exc:
            return self.error(f"{path}.__json", _("Not valid JSON: %(e)s") % {"e": exc}, text)
        return value

    def overrides(self, raw: dict, path: str):
        """A variant's overrides: its copy from the per-language fields, the rest from the
        advanced JSON beside them (the copy fields win where both say something)."""
        out = {}
        text = (raw.get("__json") or "").strip()
        if text:
            try:
                rest = json.loads(text)
            except ValueError as exc:
                return self.error(f"{path}.__json", _("Not valid JSON: %(e)s") % {"e": exc}, text)
            if not isinstance(rest, dict):
                return self.error(f"{path}.__json", _("Expected a group of fields."), text)
            out.update(rest)
        props = SCHEMA["properties"]
        for key in _COPY_KEYS:
            value = self.value(props[key], raw.get(key), join_path(path, key), required=True)
            if value:
                out[key] = value
        return out

    def array(self, schema: dict, raw, path: str, *, required: bool):
        items = schema.get("items") or {}
        if _is_scalar_list(schema):
            text = raw.strip() if isinstance(raw, str) else ""
            parts = [p.strip() for p in text.split(",") if p.strip()]
            if "anyOf" in items:
                parsed = [p.split("/") for p in parts]
                values = [
                    [s.strip() for s in group] if len(group) > 1 else group[0].strip()
                    for group in parsed
                ]
            else:
                values = parts
            return values if values or required else _MISSING
        raw = raw if isinstance(raw, dict) else {}
        out = []
        for index in sorted(k for k in raw if isinstance(k, int)):
            entry = raw[index] if isinstance(raw[index], dict) else {}
            value = self.value(items, {**entry, "__new": "1"}, f"{path}[{len(out)}]", required=True)
            out.append({} if value is _MISSING else value)
        if not out and not required:
            return _MISSING
        return out

    def condition(self, raw, path: str, *, required: bool):
        raw = raw if isinstance(raw, dict) else {}
        kind = (raw.get("__type") or "").strip()
        if kind:
            self.ctx.types[path] = kind
        if kind == "field":
            out = {}
            for name in ("field", "op"):
                text = (raw.get(name) or "").strip()
                if text:
                    out[name] = text
            text = (raw.get("value") or "").strip()
            if text:
                if out.get("op") in ("in", "not_in"):
                    out["value"] = [self.scalar(p.strip()) for p in text.split(",") if p.strip()]
                else:
                    out["value"] = self.scalar(text)
            return out
        if kind == "segment":
            out = {"segment": (raw.get("segment") or "").strip()}
            if (raw.get("of") or "").strip():
                out["of"] = raw["of"].strip()
            return out
        if kind in ("all", "any"):
            children = raw.get(kind) if isinstance(raw.get(kind), dict) else {}
            out = []
            for index in sorted(k for k in children if isinstance(k, int)):
                value = self.condition(children[index], f"{path}.{kind}[{len(out)}]", required=True)
                out.append({} if value is _MISSING else value)
            return {kind: out}
        if kind == "not":
            value = self.condition(raw.get("not"), f"{path}.not", required=True)
            return {"not": {} if value is _MISSING else value}
        return {} if (required or raw.get("__new")) else _MISSING


def _in_array(path: str) -> bool:
    return path.endswith("]")


def parse_section(section: str, data, ctx: Context, action: str = "") -> dict:
    """The section's spec keys from the posted form: {key: value}; a key missing from the
    result is absent from the spec. Parse problems go to `ctx.errors` by spec path."""
    tree = raw_tree(data)
    if action:
        apply_action(tree, action)
    parser = _Parser(ctx)
    props = SCHEMA["properties"]
    needed = set(SCHEMA["required"])
    out = {}
    for key in SECTION_KEYS[section]:
        value = parser.value(props[key], tree.get(key), key, required=key in needed)
        if value is not _MISSING:
            out[key] = value
    return out


def apply_section(spec: dict, section: str, values: dict) -> dict:
    for key in SECTION_KEYS[section]:
        if key in values:
            spec[key] = values[key]
        else:
            spec.pop(key, None)
    return spec


# ---------------------------------------------------------------- rendering


def _join(parts) -> SafeString:
    """Already-escaped fragments, concatenated."""
    return format_html_join("", "{}", ((part,) for part in parts))


class _Renderer:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.symbol = format_minor(0, ctx.currency).replace("0", "").strip() or ctx.currency

    def htmx(self) -> SafeString:
        return format_html(
            'hx-post="{}" hx-target="#section-body" hx-select="#section-body" hx-swap="outerHTML"',
            self.ctx.url,
        )

    def button(
        self, action: str, text: str, style: str = "btn-outline-primary", label: str = ""
    ) -> SafeString:
        return format_html(
            '<button type="submit" name="_action" value="{}" formnovalidate class="btn btn-sm {}" {} data-testid="{}"{}>{}</button>',
            action, style, self.htmx(), action.replace(":", "-"),
            format_html(' aria-label="{}"', label) if label else "", text,
        )  # fmt: skip

    def errors(self, path: str) -> SafeString:
        messages = self.ctx.errors.get(path) or []
        if not messages:
            return SafeString("")
        return format_html(
            '<div class="invalid-feedback d-block" id="{}-error" data-error-for="{}">{}</div>',
            _dom_id(path), path, " ".join(map(str, messages)),
        )  # fmt: skip

    def value(
        self,
        schema: dict,
        value,
        path: str,
        name: str,
        *,
        required: bool,
        siblings=None,
        title: str = "",
    ) -> SafeString:
        title = title or _title(schema, name)
        if _is_condition(schema):
            return self.condition(
                value, path, title, required=required, description=schema.get("description")
            )
        if _is_text(schema):
            return self.text(schema, value, path, title)
        schema = resolve(schema)
        if "const" in schema:
            return SafeString("")
        kind = _type(schema)
        if kind == "object":
            return self.object(schema, value, path, title, required=required)
        if kind == "array" and not _is_scalar_list(schema):
            return self.array(schema, value, path, title)
        return self.scalar(schema, value, path, title, required=required, siblings=siblings or {})

    def scalar(self, schema, value, path, title, *, required, siblings) -> SafeString:
        dom = _dom_id(path)
        unit = schema.get("x-unit", "")
        money = unit == "minor" or (
            unit == "count|minor" and (siblings or {}).get("measure") == "amount"
        )
        shown = self._display(schema, value, money)
        if path in self.ctx.bad_raw:
            shown = self.ctx.bad_raw[path]
        invalid = " is-invalid" if path in self.ctx.errors else ""
        described = f"{dom}-help" + (f" {dom}-error" if invalid else "")
        attrs = format_html('id="{}" name="{}" aria-describedby="{}"', dom, path, described)
        if "enum" in schema:
            # A choice with a default has no blank: its absence shows as the default.
            if "default" in schema and value is _MISSING and path not in self.ctx.bad_raw:
                shown = schema["default"]
            blank = (
                not required or value is _MISSING or value is None and None not in schema["enum"]
            )
            options = [("", "—")] if blank and "default" not in schema else []
            words = {**CHOICE_TEXT, **FIELD_CHOICE_TEXT.get(path.rsplit(".", 1)[-1], {})}
            options += [
                ("null" if v is None else v, _("none") if v is None else str(words.get(v, v)))
                for v in schema["enum"]
            ]
            control = format_html(
                '<select class="form-select{}" {}>{}</select>', invalid, attrs,
                format_html_join("", '<option value="{}"{}>{}</option>', ((v, " selected" if v == shown else "", t) for v, t in options)),
            )  # fmt: skip
        elif _type(schema) == "boolean":
            options = [("", "—"), ("true", _("yes")), ("false", _("no"))]
            control = format_html(
                '<select class="form-select{}" {}>{}</select>', invalid, attrs,
                format_html_join("", '<option value="{}"{}>{}</option>', ((v, " selected" if v == shown else "", t) for v, t in options)),
            )  # fmt: skip
        elif schema.get("format") == "date-time":
            control = format_html(
                '<input type="datetime-local" class="form-control{}" {} value="{}">',
                invalid,
                attrs,
                shown,
            )
        elif path.rsplit(".", 1)[-1] in LONG_TEXT or schema.get("maxLength", 0) >= 1000:
            # A page of terms gets room for a few paragraphs; a sentence or two, two lines.
            rows = 8 if schema.get("maxLength", 0) >= 10000 else 2
            control = format_html(
                '<textarea class="form-control{}" rows="{}" {}>{}</textarea>',
                invalid,
                rows,
                attrs,
                shown,
            )
        else:
            mode = (
                "decimal"
                if money
                else ("numeric" if _type(schema) in ("integer", "number") else "text")
            )
            control = format_html(
                '<input type="text" inputmode="{}" class="form-control{}" {} value="{}">',
                mode,
                invalid,
                attrs,
                shown,
            )
        suffix = ""
        if money:
            suffix = format_html(' <span class="text-secondary">({})</span>', self.symbol)
        elif unit in ("days", "business_days", "percent", "months", "weeks"):
            suffix = format_html(' <span class="text-secondary">({})</span>', {
                "days": _("days"), "business_days": _("business days"), "percent": "%",
                "months": _("months"), "weeks": _("weeks"),
            }[unit])  # fmt: skip
        # A sentence (a question, a long text up to a few hundred characters) gets the row.
        long_line = schema.get("maxLength", 0) >= 200
        wide = "col-12" if "textarea" in control or long_line else "col-sm-6 col-lg-4"
        return format_html(
            '<div class="{} mb-2" data-field="{}"><label class="form-label{}" for="{}">{}{}</label>{}<div class="form-hint small" id="{}-help">{}</div>{}</div>',
            wide, path, " required" if required else "", dom, title, suffix, control, dom,
            self._help(schema, money), self.errors(path),
        )  # fmt: skip

    def text(self, schema, value, path, title) -> SafeString:
        """A copy text: one field per language, each with its own errors; a text written once
        for every language shows in each field."""
        fields = {"type": "string", "maxLength": 4000, "description": ""}
        if isinstance(value, str):
            value = dict.fromkeys(COPY_LANGUAGES, value)
        value = value if isinstance(value, dict) else {}
        parts = [
            self.scalar(
                fields,
                value.get(code, _MISSING),
                join_path(path, code),
                f"{title} ({LANGUAGE_NAMES.get(code, code)})",
                required=False,
                siblings={},
            )
            for code in COPY_LANGUAGES
        ]
        return format_html(
            '<div class="col-12 mb-2" data-field="{}" role="group" aria-label="{}">{}<div class="form-hint small">{}</div>{}</div>',
            path, title, self.rows(parts), _described(schema),
            self.errors(path),
        )  # fmt: skip

    def overrides(self, value, path) -> SafeString:
        """A variant's overrides: its copy as per-language fields, the rest as JSON."""
        value = value if isinstance(value, dict) else {}
        props = SCHEMA["properties"]
        parts = [
            self.value(props[key], value.get(key) or {}, join_path(path, key), key, required=True)
            for key in _COPY_KEYS
        ]
        rest = {k: v for k, v in value.items() if k not in _COPY_KEYS}
        dom = _dom_id(path + ".__json")
        return format_html(
            '<fieldset class="border rounded p-3 mb-3" data-path="{}"><input type="hidden" name="{}.__present" value="1"><legend class="fs-4 w-auto px-2">{}</legend><div class="form-hint mb-2">{}</div>{}{}<label class="form-label" for="{}">{}</label><textarea class="form-control font-monospace" rows="3" id="{}" name="{}.__json">{}</textarea>{}</fieldset>',
            path, path, _("Overrides"), _("The copy this variant shows instead, per language; empty fields keep the program's."),
            self.errors(path), _join(parts), dom, _("Other overrides as JSON (advanced)"), dom, path,
            self.ctx.bad_raw.get(f"{path}.__json") or (json.dumps(rest, ensure_ascii=False) if rest else ""),
            self.errors(f"{path}.__json"),
        )  # fmt: skip

    def _help(self, schema, money: bool) -> str:
        """The field's description; for money, what to type instead of the spec's unit."""
        text = _described(schema)
        if not money:
            return text
        text = _MINOR_REMARK.sub("", text)
        return f"{text} " + _("Type it as you write it: 50 means %(example)s.") % {
            "example": format_minor(
                50 * 10 ** exponent(self.ctx.currency), self.ctx.currency, decimals=True
            )
        }

    def _display(self, schema, value, money: bool) -> str:
        if value is _MISSING:
            return ""
        if value is None:
            return "null" if "enum" in schema else ""
        if money and isinstance(value, int):
            return str(to_major(value, self.ctx.currency))
        if _type(schema) == "boolean":
            return "true" if value else "false"
        if schema.get("format") == "date-time" and isinstance(value, str):
            try:
                return (
                    datetime.fromisoformat(value.replace("Z", "+00:00"))
                    .astimezone(self.ctx.tz)
                    .strftime("%Y-%m-%dT%H:%M")
                )
            except ValueError:
                return value
        if isinstance(value, list):
            return ", ".join("/".join(v) if isinstance(v, list) else str(v) for v in value)
        return str(value)

    def rows(self, parts: list[SafeString]) -> SafeString:
        return format_html('<div class="row g-2">{}</div>', _join(parts))

    def object(self, schema, value, path, title, *, required) -> SafeString:
        if value is _MISSING or value is None:
            if required:
                value = {}
            else:
                return format_html(
                    '<div class="mb-3" data-absent="{}">{}</div>', path,
                    self.button(f"add:{path}", _("Add: %(what)s") % {"what": title}),
                )  # fmt: skip
        value = value if isinstance(value, dict) else {}
        if _VARIANT_OVERRIDES.match(path):
            return self.overrides(value, path)
        head = format_html(
            '<legend class="fs-4 w-auto px-2">{}</legend>{}',
            title, format_html('<div class="form-hint mb-2">{}</div>', _described(schema)) if schema.get("description") else "",
        )  # fmt: skip
        body: list[SafeString] = []
        if not required and not _in_array(path):
            body.append(format_html('<input type="hidden" name="{}.__present" value="1">', path))
        if "properties" in schema:
            needed = set(schema.get("required") or ())
            scalars: list[SafeString] = []
            for name, child in schema["properties"].items():
                part = self.value(
                    child,
                    value.get(name, _MISSING),
                    join_path(path, name),
                    name,
                    required=name in needed,
                    siblings=value,
                )
                if self._is_scalar_schema(child):
                    scalars.append(part)
                else:
                    if scalars:
                        body.append(self.rows(scalars))
                        scalars = []
                    body.append(part)
            if scalars:
                body.append(self.rows(scalars))
        elif (schema.get("propertyNames") or {}).get("enum"):
            child = schema["additionalProperties"]
            names = schema["propertyNames"]["enum"]
            parts = [
                self.value(child, value.get(n, _MISSING), join_path(path, n), n, required=False,
                           title=self._per_language_title(names, n, title))
                for n in names
            ]  # fmt: skip
            body.append(self.rows(parts) if self._is_scalar_schema(child) else _join(parts))
        elif _is_map(schema):
            body.append(self.map(schema, value, path))
        else:
            dom = _dom_id(path + ".__json")
            body.append(format_html(
                '<label class="form-label" for="{}">{}</label><textarea class="form-control font-monospace" rows="3" id="{}" name="{}.__json">{}</textarea>{}',
                dom, _("%(what)s as JSON (advanced)") % {"what": title}, dom, path,
                self.ctx.bad_raw.get(f"{path}.__json") or (json.dumps(value, ensure_ascii=False) if value else ""),
                self.errors(f"{path}.__json"),
            ))  # fmt: skip
        if not title:
            return format_html("{}{}", self.errors(path), _join(body))
        remove = ""
        if not required and not _in_array(path):
            remove = format_html(
                '<div class="text-end">{}</div>',
                self.button(
                    f"remove:{path}", _("Remove: %(what)s") % {"what": title}, "btn-outline-danger"
                ),
            )
        return format_html(
            '<fieldset class="border rounded p-3 mb-3" data-path="{}">{}{}{}{}</fieldset>',
            path, head, self.errors(path), _join(body), remove,
        )  # fmt: skip

    @staticmethod
    def _per_language_title(names: list, name: str, title: str) -> str:
        """An entry of an object keyed by language (the FAQ, the terms) is named by its
        language: "Terms (English)"; other keyed entries (share channels) by their key."""
        if names != COPY_LANGUAGES:
            return ""
        return f"{title} ({LANGUAGE_NAMES.get(name, name)})"

    @staticmethod
    def _is_scalar_schema(child: dict) -> bool:
        if _is_condition(child):
            return False
        child = resolve(child)
        kind = _type(child)
        return kind not in ("object", "array") or _is_scalar_list(child)

    def map(self, schema, value, path) -> SafeString:
        entries = []
        for index, (key, entry) in enumerate((value or {}).items()):
            entry_path = f"{path}[{index}]"
            dom = _dom_id(entry_path + ".__key")
            key_input = format_html(
                '<div class="col-sm-6 col-lg-4 mb-2"><label class="form-label" for="{}">{}</label><input type="text" class="form-control" id="{}" name="{}.__key" value="{}">{}</div>',
                dom, _("Option key"), dom, entry_path, key, self.errors(entry_path + ".__key"),
            )  # fmt: skip
            inner = self.object(
                {**schema["additionalProperties"], "description": ""},
                entry,
                entry_path,
                key or _("Option"),
                required=True,
            )
            entries.append(format_html(
                '<div class="card mb-2" data-path="{}"><div class="card-body">{}{}<div class="text-end">{}</div></div></div>',
                entry_path, self.rows([key_input]), inner, self.button(f"remove:{entry_path}", _("Remove"), "btn-outline-danger"),
            ))  # fmt: skip
        return format_html(
            '<input type="hidden" name="{}.__present" value="1">{}<div>{}</div>',
            path, _join(entries), self.button(f"add:{path}", _("Add an option's values")),
        )  # fmt: skip

    def array(self, schema, value, path, title) -> SafeString:
        items = schema.get("items") or {}
        values = value if isinstance(value, list) else []
        cards = []
        item_title = _title(resolve(items), "") if resolve(items).get("title") else title
        for index, item in enumerate(values):
            item_path = f"{path}[{index}]"
            name = item.get("key") if isinstance(item, dict) else ""
            tools = format_html(
                '<div class="btn-list ms-auto">{}{}{}</div>',
                self.button(f"up:{item_path}", "↑", "btn-outline-secondary", _("Move up")) if index else "",
                self.button(f"down:{item_path}", "↓", "btn-outline-secondary", _("Move down")) if index < len(values) - 1 else "",
                self.button(f"remove:{item_path}", "✕", "btn-outline-danger", _("Remove")),
            )  # fmt: skip
            if _is_condition(items):
                inner = self.condition(item, item_path, f"{title} {index + 1}", required=True)
            else:
                inner = self.value(items, item, item_path, "", required=True)
            cards.append(format_html(
                '<div class="card mb-2" data-path="{}"><div class="card-header py-2 flex-wrap gap-1"><span class="fw-bold">{} {}</span>{}{}</div><div class="card-body">{}</div></div>',
                item_path, title, index + 1, format_html(' <code class="ms-2">{}</code>', name) if name else "", tools, inner,
            ))  # fmt: skip
        return format_html(
            '<section class="mb-3" data-path="{}" aria-label="{}"><h3 class="h4">{}</h3>{}{}{}<div>{}</div></section>',
            path, title, title,
            format_html('<div class="form-hint mb-2">{}</div>', _described(schema)) if schema.get("description") else "",
            self.errors(path), _join(cards),
            self.button(f"add:{path}", _("Add: %(what)s") % {"what": item_title if item_title != title else title}),
        )  # fmt: skip

    def condition(self, value, path, title, *, required, description=None) -> SafeString:
        value = value if isinstance(value, dict) else ({} if required else None)
        if value is None or value is _MISSING:
            kind = ""
        elif "all" in value:
            kind = "all"
        elif "any" in value:
            kind = "any"
        elif "not" in value:
            kind = "not"
        elif "segment" in value:
            kind = "segment"
        elif value:
            kind = "field"
        else:
            kind = self.ctx.types.get(path, "")
        dom = _dom_id(path + ".__type")
        options = [("", _("— always —") if not required else _("— choose —"))] + [
            (k, str(t)) for k, t in CONDITION_TYPES
        ]
        select = format_html(
            '<select class="form-select" id="{}" name="{}.__type" {} hx-trigger="change" hx-vals=\'{{"_action": "refresh"}}\'>{}</select>',
            dom, path, self.htmx(),
            format_html_join("", '<option value="{}"{}>{}</option>', ((k, " selected" if k == kind else "", t) for k, t in options)),
        )  # fmt: skip
        body: list[SafeString] = []
        if kind in ("field", "segment"):
            shape = _CONDITION_SHAPES[kind]["properties"]
            needed = set(_CONDITION_SHAPES[kind]["required"])
            body.append(self.rows([
                self.scalar({"type": "string", **child} if name == "value" else child, value.get(name, _MISSING),
                            f"{path}.{name}", _title(child, name), required=name in needed, siblings={})
                for name, child in shape.items()
            ]))  # fmt: skip
        elif kind in ("all", "any"):
            children = value.get(kind) or []
            parts = []
            for index, child in enumerate(children):
                child_path = f"{path}.{kind}[{index}]"
                parts.append(format_html(
                    '<div class="d-flex gap-2 align-items-start condition-row" data-path="{}"><div class="flex-grow-1">{}</div>{}</div>',
                    child_path, self.condition(child, child_path, _("Condition %(n)s") % {"n": index + 1}, required=True),
                    self.button(f"remove:{child_path}", "✕", "btn-outline-danger", _("Remove")),
                ))  # fmt: skip
            body.append(
                format_html(
                    '<div class="ms-2">{}{}</div>',
                    _join(parts),
                    self.button(f"add:{path}.{kind}", _("Add a condition")),
                )
            )
        elif kind == "not":
            body.append(
                self.condition(value.get("not") or {}, f"{path}.not", _("Condition"), required=True)
            )
        return format_html(
            '<div class="border-start border-2 ps-3 mb-2" data-path="{}" data-condition="{}"><label class="form-label" for="{}">{}</label>{}{}{}{}</div>',
            path, kind, dom, title, select,
            format_html('<div class="form-hint small">{}</div>', _(description)) if description else "",
            self.errors(path), _join(body),
        )  # fmt: skip


def render_section(section: str, spec: dict, ctx: Context) -> SafeString:
    renderer = _Renderer(ctx)
    props = SCHEMA["properties"]
    needed = set(SCHEMA["required"])
    parts = []
    scalars: list[SafeString] = []
    for key in SECTION_KEYS[section]:
        part = renderer.value(
            props[key], spec.get(key, _MISSING), key, key, required=key in needed, siblings=spec
        )
        if renderer._is_scalar_schema(props[key]):
            scalars.append(part)
            continue
        if scalars:
            parts.append(renderer.rows(scalars))
            scalars = []
        parts.append(part)
    if scalars:
        parts.append(renderer.rows(scalars))
    return _join(parts)
