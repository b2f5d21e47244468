"""Builder forms. They only parse input into spec fragments; the spec's own validation (and
the service) decide what is valid."""

from __future__ import annotations

import json

from django import forms
from django.utils.translation import gettext_lazy as _

TEMPLATE_CHOICES = [
    ("saas-b2b", _("B2B SaaS: staged cash, seasons and tiers")),
    ("green-home", _("E-commerce: monthly ladder, lottery and points")),
    ("study-together", _("Education: two stages, team enrolment and charity")),
    ("blank", _("Blank program")),
]


class NewProgramForm(forms.Form):
    template = forms.ChoiceField(
        label=_("Start from"), choices=TEMPLATE_CHOICES, widget=forms.RadioSelect
    )
    name = forms.CharField(label=_("Name"), max_length=200)
    slug = forms.SlugField(
        label=_("Slug"), max_length=80, help_text=_("Used in the API and in exports.")
    )


def apply_json_spec(spec: dict, text: str) -> tuple[dict, dict[str, list[str]]]:
    """The whole spec pasted or imported as JSON (the advanced view)."""
    try:
        value = json.loads(text or "null")
    except ValueError as exc:
        return spec, {"non_field_errors": [str(_("Not valid JSON: %(e)s")) % {"e": exc}]}
    if not isinstance(value, dict):
        return spec, {"non_field_errors": [str(_("A program spec must be a JSON object."))]}
    return value, {}
