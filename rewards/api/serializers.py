from rest_framework import serializers

from ..models import RewardStatus


class RewardFilter(serializers.Serializer):
    participant = serializers.CharField(required=False, max_length=200)
    status = serializers.ChoiceField(choices=RewardStatus.choices, required=False)
    program = serializers.SlugField(required=False)


class MoneyOut(serializers.Serializer):
    amount_minor = serializers.IntegerField()
    currency = serializers.CharField()


class RewardOut(serializers.Serializer):
    """Schema only: the body is `selectors.reward_to_dict`, the one shape of API.md."""

    id = serializers.IntegerField()
    participant = serializers.CharField()
    referral = serializers.IntegerField(allow_null=True)
    program = serializers.CharField()
    side = serializers.CharField()
    scope = serializers.CharField()
    reason = serializers.CharField()
    kind = serializers.CharField()
    amount = MoneyOut(allow_null=True)
    points = serializers.IntegerField(allow_null=True)
    description = serializers.CharField()
    options = serializers.ListField(child=serializers.DictField())
    status = serializers.CharField()
    hold_reason = serializers.CharField(allow_null=True)
    blocked_reason = serializers.CharField(allow_null=True)
    boost = serializers.CharField(allow_null=True)
    due_at = serializers.DateTimeField(allow_null=True)
    choice_deadline = serializers.DateTimeField(allow_null=True)
    expires_at = serializers.DateTimeField(allow_null=True)
    reversed_amount = MoneyOut(allow_null=True)
    created_at = serializers.DateTimeField()


class PayoutFailedIn(serializers.Serializer):
    reason = serializers.CharField(max_length=300)


class PayoutPaidIn(serializers.Serializer):
    external_ref = serializers.CharField(
        max_length=200, required=False, default="", allow_blank=True
    )


class RedemptionIn(serializers.Serializer):
    participant = serializers.CharField(max_length=200)
    program = serializers.SlugField()
    item = serializers.CharField(max_length=80)


class RedemptionFilter(serializers.Serializer):
    participant = serializers.CharField(required=False, max_length=200)
    program = serializers.SlugField(required=False)


class RedemptionOut(serializers.Serializer):
    """Schema only: the body is `selectors.redemption_to_dict` (coupons add `percent_off`,
    `max_amount`, `min_spend`, `valid_days`; perks and credits `duration_days`)."""

    id = serializers.IntegerField()
    participant = serializers.CharField()
    program = serializers.CharField()
    item = serializers.CharField()
    points = serializers.IntegerField()
    kind = serializers.CharField()
    amount = MoneyOut(allow_null=True)
    description = serializers.CharField()
    code = serializers.CharField(allow_null=True)
    expires_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()


class RedemptionCreated(RedemptionOut):
    points_balance = serializers.IntegerField(help_text="The participant's points after it.")


class BalanceFilter(serializers.Serializer):
    participant = serializers.CharField(max_length=200, help_text="The participant's external_id.")
