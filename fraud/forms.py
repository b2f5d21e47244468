from django import forms
from django.utils.translation import gettext_lazy as _

from .models import DisputeOutcome, IdentifierKind


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"), choices=[("approve", _("Approve")), ("reject", _("Reject"))]
    )
    note = forms.CharField(
        label=_("Note"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )


class BulkForm(forms.Form):
    action = forms.ChoiceField(
        label=_("Action"),
        choices=[("approve", _("Approve")), ("reject", _("Reject")), ("assign", _("Assign"))],
    )
    referrals = forms.TypedMultipleChoiceField(label=_("Referrals"), coerce=int, choices=[])
    note = forms.CharField(label=_("Note"), required=False, max_length=2000)
    assignee = forms.IntegerField(label=_("Reviewer"), required=False)

    def __init__(self, *args, referral_ids=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["referrals"].choices = [(i, i) for i in referral_ids]


class QueueFilterForm(forms.Form):
    program = forms.CharField(required=False)
    signal = forms.CharField(required=False)
    min_score = forms.IntegerField(
        required=False, min_value=0, max_value=100, label=_("Score at least")
    )
    older_than_hours = forms.IntegerField(
        required=False, min_value=0, label=_("Older than (hours)")
    )
    status = forms.ChoiceField(
        required=False,
        choices=[
            ("open", _("Open")),
            ("approved", _("Approved")),
            ("rejected", _("Rejected")),
            ("", _("All")),
        ],
    )
    mine = forms.BooleanField(required=False, label=_("Assigned to me"))


class DisputeAnswerForm(forms.Form):
    answer = forms.CharField(
        label=_("Answer shown to the customer"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    outcome = forms.ChoiceField(label=_("Outcome"), choices=DisputeOutcome.choices)


class BlocklistForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=IdentifierKind.choices)
    value = forms.CharField(label=_("Value"), max_length=500)
    note = forms.CharField(label=_("Note"), required=False, max_length=300)
