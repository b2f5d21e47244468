"""The goal and target forms. People type percents, amounts in the program's currency and
plain ratios; the forms clean them to the integers the models keep (`units`)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from referral_platform.core.forms import MAX_AMOUNT, MoneyField, too_many_decimals

from . import units
from .models import GoalMetric


class PercentField(forms.DecimalField):
    """A share typed as a percent with up to two decimals (12.5), cleaned to basis points
    (1250); an initial value in basis points shows as 12.5."""

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("min_value", 0)
        kwargs.setdefault("max_value", 100)
        super().__init__(decimal_places=units.PLACES, **kwargs)

    def prepare_value(self, value):
        if isinstance(value, int) and not isinstance(value, bool):
            return units.bp_to_percent(value)
        return value

    def clean(self, value) -> int | None:
        percent = super().clean(value)
        return None if percent is None else units.percent_to_bp(percent)


class GoalForm(forms.Form):
    """One `target` serves every metric; `clean` reads it in the chosen metric's unit."""

    metric = forms.ChoiceField(label=gettext_lazy("Metric"), choices=GoalMetric.choices)
    comparator = forms.ChoiceField(
        label=gettext_lazy("Direction"),
        choices=[("ge", gettext_lazy("at least (≥)")), ("le", gettext_lazy("at most (≤)"))],
    )
    target = forms.DecimalField(label=gettext_lazy("Target"), min_value=0, max_value=MAX_AMOUNT)
    starts_on = forms.DateField(label=gettext_lazy("Starts on"), help_text="YYYY-MM-DD")
    ends_on = forms.DateField(label=gettext_lazy("Ends on"), help_text="YYYY-MM-DD")
    note = forms.CharField(label=gettext_lazy("Note"), required=False, max_length=200)

    def __init__(self, *args, currency: str, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.currency = currency
        signs = {units.RATE: "%", units.MONEY: currency}
        self.fields["metric"].choices = [
            (value, _("%(metric)s (%(unit)s)") % {"metric": label, "unit": signs[unit]}
             if (unit := units.metric_unit(value)) in signs else label)
            for value, label in GoalMetric.choices
        ]  # fmt: skip
        self.fields["target"].help_text = _(
            "A rate as a percent (18 for 18%%), a cost as an amount in %(currency)s "
            "(35.00), LTV / CAC as a ratio (3.2)."
        ) % {"currency": currency}

    def clean(self) -> dict:
        data = super().clean()
        metric, target = data.get("metric"), data.get("target")
        if metric is None or target is None:
            return data
        if units.metric_unit(metric) == units.RATE and target > 100:
            self.add_error("target", _("Enter a percent of at most 100."))
            return data
        try:
            data["target"] = units.to_stored(metric, target, self.currency)
        except ValueError:
            self.add_error("target", too_many_decimals(units.typed_places(metric, self.currency)))
        return data


class TargetsForm(forms.Form):
    monthly_budget = MoneyField(
        label=gettext_lazy("Monthly budget (%(currency)s)"),
        help_text=gettext_lazy("Paces reward spend on the overview; empty for no budget."),
        required=False,
    )
    target_cpra = MoneyField(
        label=gettext_lazy("Target cost per referred customer (%(currency)s)"), required=False
    )
    acquisition_cost = MoneyField(
        label=gettext_lazy("Your acquisition cost per customer (%(currency)s)"),
        help_text=gettext_lazy("What a customer costs through your other channels, for LTV/CAC."),
        required=False,
    )
    coverage_alert_percent = PercentField(
        label=gettext_lazy("Coverage alert threshold (%)"),
        help_text=gettext_lazy(
            "Alert when last week's attribution coverage falls below this share of the four "
            "weeks before, e.g. 80 for 80%."
        ),
        required=False,
    )
    # Form field → ProgramTargets column.
    STORED = {
        "monthly_budget": "monthly_budget_minor",
        "target_cpra": "target_cpra_minor",
        "acquisition_cost": "acquisition_cost_minor",
        "coverage_alert_percent": "coverage_alert_basis_points",
    }

    def __init__(self, *args, currency: str, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if isinstance(field, MoneyField):
                field.set_currency(currency)

    @classmethod
    def initial_from(cls, targets) -> dict | None:
        if targets is None:
            return None
        return {name: getattr(targets, column) for name, column in cls.STORED.items()}

    def stored_values(self) -> dict[str, int | None]:
        """Arguments for `services.targets_set`: an empty amount clears it, an empty share
        keeps what was set."""
        return {
            column: value
            for name, column in self.STORED.items()
            if (value := self.cleaned_data[name]) is not None
            or isinstance(self.fields[name], MoneyField)
        }
