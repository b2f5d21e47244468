"""The owner's form for one connector: its secret (blank keeps the stored one), on/off,
and for Segment the event-name mapping."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .providers import segment_in


class ConnectorForm(forms.Form):
    secret = forms.CharField(
        label=gettext_lazy("Signing secret"),
        max_length=200,
        required=False,
        widget=forms.PasswordInput(attrs={"class": "form-control", "autocomplete": "off"}),
    )
    is_active = forms.BooleanField(
        label=gettext_lazy("Receive deliveries"),
        required=False,
        initial=True,
        widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
    )
    mapping = forms.CharField(
        label=gettext_lazy("Track events"),
        required=False,
        widget=forms.Textarea(attrs={"class": "form-control font-monospace", "rows": 5}),
        help_text=gettext_lazy(
            "One per line: the Segment event name, “=”, and one of our types "
            "(signup, qualified_lead, purchase, refund, activity, share)."
        ),
    )

    def __init__(self, *args, kind: str, configured: bool, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.kind = kind
        if kind != "segment":
            del self.fields["mapping"]
        if kind == "segment":
            self.fields["secret"].help_text = _(
                "Leave blank to keep the current secret; a new connector gets one generated."
            )
        elif configured:
            self.fields["secret"].help_text = _("Leave blank to keep the current secret.")
        else:
            self.fields["secret"].required = True

    def clean_mapping(self) -> dict:
        mapping, errors = segment_in.mapping_parse(self.cleaned_data.get("mapping") or "")
        if errors:
            raise forms.ValidationError(
                _("Write each line as “Event Name = type” with one of our types: %(lines)s")
                % {"lines": "; ".join(errors)}
            )
        return mapping
