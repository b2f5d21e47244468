"""The staff form for a new endpoint. It validates the shape; the service checks the URL
(netguard) and writes."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import EVENT_TYPES


class EndpointForm(forms.Form):
    url = forms.URLField(
        label=_("URL"),
        max_length=500,
        assume_scheme="https",
        widget=forms.URLInput(attrs={"class": "form-control", "placeholder": "https://"}),
    )
    events = forms.MultipleChoiceField(
        label=_("Event types"),
        choices=[(t, t) for t in EVENT_TYPES],
        required=False,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
        help_text=_("Tick none to receive every type."),
    )
    description = forms.CharField(
        label=_("Description"),
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"class": "form-control"}),
    )
