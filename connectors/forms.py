"""The owner's form for one connector: its secret (blank keeps the stored one), on/off,
and for Segment the event-name mapping."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .models import PayoutKind
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


class PayoutProviderForm(forms.Form):
    kind = forms.ChoiceField(
        label=gettext_lazy("Pay cash rewards through"),
        choices=PayoutKind.choices,
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    api_key = forms.CharField(
        label=gettext_lazy("Stripe secret key"),
        max_length=200,
        required=False,
        widget=forms.PasswordInput(attrs={"class": "form-control", "autocomplete": "off"}),
        help_text=gettext_lazy("Leave blank to keep the current key."),
    )
    client_id = forms.CharField(
        label=gettext_lazy("PayPal client id"),
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"class": "form-control", "autocomplete": "off"}),
    )
    client_secret = forms.CharField(
        label=gettext_lazy("PayPal secret"),
        max_length=200,
        required=False,
        widget=forms.PasswordInput(attrs={"class": "form-control", "autocomplete": "off"}),
        help_text=gettext_lazy("Leave blank to keep the current secret."),
    )
    live = forms.BooleanField(
        label=gettext_lazy("Live mode (real money)"),
        required=False,
        widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
    )

    def __init__(self, *args, stored=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.stored = stored

    def clean(self):
        data = super().clean()
        kind = data.get("kind")
        has = lambda name: bool(data.get(name) or getattr(self.stored, name, ""))  # noqa: E731
        if kind == PayoutKind.STRIPE_CONNECT and not has("api_key"):
            self.add_error("api_key", _("Paste the Stripe secret key to pay through Stripe."))
        if kind == PayoutKind.PAYPAL:
            if not has("client_id"):
                self.add_error("client_id", _("Paste the PayPal app's client id."))
            if not has("client_secret"):
                self.add_error("client_secret", _("Paste the PayPal app's secret."))
        return data


class CrmForm(forms.Form):
    access_token = forms.CharField(
        label=gettext_lazy("HubSpot private app access token"),
        max_length=300,
        required=False,
        widget=forms.PasswordInput(attrs={"class": "form-control", "autocomplete": "off"}),
        help_text=gettext_lazy("Leave blank to keep the current token."),
    )
    is_active = forms.BooleanField(
        label=gettext_lazy("Push referral statuses"),
        required=False,
        widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
    )

    def __init__(self, *args, stored=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if stored is None:
            self.fields["access_token"].required = True
