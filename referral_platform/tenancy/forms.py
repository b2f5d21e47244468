"""Forms for the tenant's settings, team and API keys. They validate; services write."""

from __future__ import annotations

import re
from datetime import date
from zoneinfo import available_timezones

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from .models import Role, Tenant

_ORIGIN = re.compile(r"^https?://[A-Za-z0-9.-]+(:\d{1,5})?$")
MAX_LOGO_BYTES = 1024 * 1024


class DateListField(forms.CharField):
    """ISO dates, one per line (or separated by commas), as a sorted list of strings."""

    widget = forms.Textarea(attrs={"rows": 4, "placeholder": "2026-10-01"})

    def prepare_value(self, value):
        if isinstance(value, (list, tuple)):
            return "\n".join(str(v) for v in value)
        return value

    def to_python(self, value) -> list[str]:
        days = set()
        for item in re.split(r"[\s,]+", value or ""):
            if not item:
                continue
            try:
                days.add(date.fromisoformat(item).isoformat())
            except ValueError:
                raise forms.ValidationError(
                    _("%(value)s is not a date like 2026-10-01."), params={"value": item}
                ) from None
        return sorted(days)


class OriginListField(forms.CharField):
    widget = forms.Textarea(attrs={"rows": 3, "placeholder": "https://shop.example.com"})

    def prepare_value(self, value):
        if isinstance(value, (list, tuple)):
            return "\n".join(value)
        return value

    def to_python(self, value) -> list[str]:
        origins = []
        for item in re.split(r"[\s,]+", value or ""):
            if not item:
                continue
            item = item.rstrip("/")
            if not _ORIGIN.match(item):
                raise forms.ValidationError(
                    _("%(value)s is not an origin like https://shop.example.com."),
                    params={"value": item},
                )
            if item not in origins:
                origins.append(item)
        return origins


class TenantSettingsForm(forms.ModelForm):
    timezone = forms.ChoiceField(label=_("time zone"))
    default_locale = forms.ChoiceField(label=_("default language"), choices=settings.LANGUAGES)
    holidays = DateListField(label=_("holidays"), required=False)
    workdays = DateListField(
        label=_("make-up working days"),
        required=False,
        help_text=_("Weekend days that are working days (调休)."),
    )
    portal_frame_origins = OriginListField(
        label=_("portal frame origins"),
        required=False,
        help_text=_("Sites allowed to embed the customer portal in a frame, one per line."),
    )

    class Meta:
        model = Tenant
        fields = [
            "name",
            "currency",
            "timezone",
            "default_locale",
            "holidays",
            "workdays",
            "brand_colour",
            "logo",
            "portal_frame_origins",
            "review_sla_hours",
            "require_mfa",
        ]
        labels = {"review_sla_hours": _("review SLA (hours)")}
        help_texts = {
            "require_mfa": _(
                "Every member must set up an authenticator app; sign-in then asks for its code."
            )
        }
        widgets = {"brand_colour": forms.TextInput(attrs={"type": "color"})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["timezone"].choices = [(tz, tz) for tz in sorted(available_timezones())]
        for field in self.fields.values():
            css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
            if isinstance(field.widget, forms.CheckboxInput):
                css = "form-check-input"
            if isinstance(field.widget, forms.TextInput) and field.widget.input_type == "color":
                css = "form-control form-control-color"
            field.widget.attrs.setdefault("class", css)

    def clean_currency(self) -> str:
        value = (self.cleaned_data.get("currency") or "").strip().upper()
        if len(value) != 3 or not value.isalpha():
            raise forms.ValidationError(_("Use a three-letter ISO 4217 code, e.g. CNY."))
        return value

    def clean_logo(self):
        logo = self.cleaned_data.get("logo")
        if logo and getattr(logo, "size", 0) > MAX_LOGO_BYTES:
            raise forms.ValidationError(_("The logo must be at most 1 MB."))
        return logo

    def clean_review_sla_hours(self) -> int:
        value = self.cleaned_data["review_sla_hours"]
        if not 1 <= value <= 24 * 30:
            raise forms.ValidationError(_("Between 1 hour and 30 days."))
        return value


class InvitationForm(forms.Form):
    email = forms.EmailField(
        label=_("email"), widget=forms.EmailInput(attrs={"class": "form-control"})
    )
    role = forms.ChoiceField(
        label=_("role"), choices=Role.choices, widget=forms.Select(attrs={"class": "form-select"})
    )


class RoleForm(forms.Form):
    role = forms.ChoiceField(label=_("role"), choices=Role.choices)


class ApiKeyForm(forms.Form):
    name = forms.CharField(
        label=_("name"),
        max_length=100,
        widget=forms.TextInput(attrs={"class": "form-control", "placeholder": _("e.g. backend")}),
    )


class AcceptInvitationForm(forms.Form):
    password1 = forms.CharField(
        label=_("password"),
        widget=forms.PasswordInput(attrs={"class": "form-control", "autocomplete": "new-password"}),
    )
    password2 = forms.CharField(
        label=_("password (again)"),
        widget=forms.PasswordInput(attrs={"class": "form-control", "autocomplete": "new-password"}),
    )

    def __init__(self, *args, email: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.email = email

    def clean(self):
        from django.contrib.auth import get_user_model
        from django.contrib.auth.password_validation import validate_password

        data = super().clean()
        p1, p2 = data.get("password1"), data.get("password2")
        if p1 and p2 and p1 != p2:
            raise forms.ValidationError(_("The two passwords differ."))
        if p1:
            User = get_user_model()
            validate_password(p1, User(email=self.email, username=self.email))
        return data
