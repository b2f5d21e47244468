"""Builder forms. They only parse input into spec fragments; the spec's own validation (and
the service) decide what is valid."""

from __future__ import annotations

import json
from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from referral_platform.core.forms import MoneyField, too_many_decimals
from referral_platform.core.money import exponent, to_major, to_minor

TEMPLATE_CHOICES = [
    ("saas-b2b", _("B2B SaaS: staged cash, seasons and tiers")),
    ("green-home", _("E-commerce: monthly ladder, lottery and points")),
    ("study-together", _("Education: two stages, team enrolment and charity")),
    ("blank", _("Blank program")),
]
# The sections edited as JSON (everything without a dedicated form).
JSON_SECTIONS = [
    ("eligibility", _("Eligibility")),
    ("attribution", _("Attribution")),
    ("stages", _("Stages and rewards (advanced)")),
    ("tiers", _("Tiers and ladders")),
    ("season", _("Season and leaderboard")),
    ("caps", _("Caps")),
    ("boosts", _("Boosts")),
    ("segment_bonuses", _("Segment bonuses")),
    ("surprise", _("Surprise bonus")),
    ("charity", _("Charity matching")),
    ("team", _("Team enrolment")),
    ("points", _("Points and catalogue")),
    ("lottery", _("Lottery")),
    ("ambassador", _("Ambassador status")),
    ("experiments", _("Experiments")),
    ("share_copy", _("Share copy")),
]


class NewProgramForm(forms.Form):
    template = forms.ChoiceField(
        label=_("Start from"), choices=TEMPLATE_CHOICES, widget=forms.RadioSelect
    )
    name = forms.CharField(label=_("Name"), max_length=200)
    slug = forms.SlugField(
        label=_("Slug"), max_length=80, help_text=_("Used in the API and in exports.")
    )


class GeneralForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    starts_at = forms.DateTimeField(
        label=_("Starts"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    ends_at = forms.DateTimeField(
        label=_("Ends"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    landing_url = forms.URLField(label=_("Landing URL"), required=False, assume_scheme="https")
    offer_headline = forms.CharField(
        label=_("Referee offer headline"), required=False, max_length=200
    )
    offer_body = forms.CharField(
        label=_("Referee offer text"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    budget = MoneyField(label=_("Budget"), required=False)
    referee_discount_cap = MoneyField(label=_("Per-referee discount cap"), required=False)
    clawback_days = forms.IntegerField(
        label=_("Claw back within (days)"), required=False, min_value=0
    )
    first_team_of_company_only = forms.BooleanField(
        label=_("Only the first referred team of a company counts"),
        required=False,
        help_text=_(
            "A later referee of the same company (company_id, or a company email domain) "
            "earns nothing, for either side."
        ),
    )

    def __init__(self, *args, currency: str, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for name in ("budget", "referee_discount_cap"):
            self.fields[name].set_currency(currency)

    @classmethod
    def initial_from(cls, spec: dict) -> dict:
        offer = spec.get("offer") or {}
        return {
            "name": spec["name"],
            "starts_at": spec.get("starts_at"),
            "ends_at": spec.get("ends_at"),
            "landing_url": spec.get("landing_url", ""),
            "offer_headline": offer.get("headline", ""),
            "offer_body": offer.get("body", ""),
            "budget": spec.get("budget"),
            "referee_discount_cap": spec.get("referee_discount_cap"),
            "clawback_days": spec.get("clawback_days"),
            "first_team_of_company_only": bool(spec.get("first_team_of_company_only")),
        }

    def apply(self, spec: dict) -> dict:
        data = self.cleaned_data
        spec["name"] = data["name"]
        for key in ("starts_at", "ends_at"):
            spec[key] = data[key].isoformat() if data[key] else None
        spec["landing_url"] = data["landing_url"] or ""
        spec["offer"] = {"headline": data["offer_headline"], "body": data["offer_body"]}
        for key in ("budget", "referee_discount_cap"):
            if data[key] is None:
                spec.pop(key, None)
            else:
                spec[key] = data[key]
        if data["clawback_days"] is None:
            spec.pop("clawback_days", None)
        else:
            spec["clawback_days"] = data["clawback_days"]
        if data["first_team_of_company_only"]:
            spec["first_team_of_company_only"] = True
        else:
            spec.pop("first_team_of_company_only", None)
        return spec


REWARD_FIELDS = (
    "description",
    "amount",
    "percent_off",
    "max_amount",
    "min_spend",
    "valid_days",
    "points",
)
MONEY_FIELDS = {"amount", "max_amount", "min_spend"}


def reward_rows(spec: dict) -> list[dict]:
    """Each stage reward item as a row of plain values for the rewards form."""
    rows = []
    for s, stage in enumerate(spec["stages"]):
        for r, item in enumerate(stage.get("rewards") or ()):
            values = {
                f: (to_major(item.get(f), spec["currency"]) if f in MONEY_FIELDS else item.get(f))
                for f in REWARD_FIELDS
            }
            rows.append({
                "prefix": f"s{s}r{r}", "path": f"stages[{s}].rewards[{r}]", "stage": stage.get("label") or stage["key"],
                "key": item["key"], "side": item["side"], "kind": item["kind"], "has_options": bool(item.get("options")),
                "values": values,
            })  # fmt: skip
    return rows


def apply_reward_rows(spec: dict, data) -> tuple[dict, dict[str, list[str]]]:
    """Read `s<stage>r<item>-<field>` inputs into the spec; parse errors by spec path."""
    errors: dict[str, list[str]] = {}
    for s, stage in enumerate(spec["stages"]):
        for r, item in enumerate(stage.get("rewards") or ()):
            for name in REWARD_FIELDS:
                raw = data.get(f"s{s}r{r}-{name}")
                if raw is None:
                    continue
                raw = raw.strip()
                path = f"stages[{s}].rewards[{r}].{name}"
                if raw == "":
                    item.pop(name, None)
                    continue
                if name == "description":
                    item[name] = raw
                    continue
                try:
                    value = Decimal(raw) if name in MONEY_FIELDS else int(raw)
                except (ArithmeticError, ValueError):
                    errors[path] = [str(_("Enter a number."))]
                    continue
                if name not in MONEY_FIELDS:
                    item[name] = value
                    continue
                try:
                    item[name] = to_minor(value, spec["currency"])
                except ValueError:
                    errors[path] = too_many_decimals(exponent(spec["currency"])).messages
    return spec, errors


def json_section_initial(spec: dict, section: str) -> str:
    return json.dumps(spec.get(section), indent=2, ensure_ascii=False)


def apply_json_section(spec: dict, section: str, text: str) -> tuple[dict, dict[str, list[str]]]:
    try:
        value = json.loads(text or "null")
    except ValueError as exc:
        return spec, {section: [str(_("Not valid JSON: %(e)s")) % {"e": exc}]}
    if value is None:
        spec.pop(section, None)
    else:
        spec[section] = value
    return spec, {}
