from rest_framework import serializers

from ..kpis import FUNNEL_STEPS


class AnalyticsQuery(serializers.Serializer):
    """`from`/`to` are tenant-local dates, both inclusive (SEMANTICS §1)."""

    program = serializers.SlugField(required=False)
    # `from` is a Python keyword, hence the explicit source names.
    from_ = serializers.DateField(required=True)
    to = serializers.DateField(required=True)
    channel = serializers.CharField(required=False, max_length=20)
    region = serializers.CharField(required=False, max_length=60)
    segment = serializers.CharField(required=False, max_length=60)

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = fields.pop("from_")
        return fields

    def validate(self, attrs):
        if attrs["to"] < attrs["from"]:
            raise serializers.ValidationError({"to": ["`to` is before `from`."]})
        if (attrs["to"] - attrs["from"]).days > 3660:
            raise serializers.ValidationError({"to": ["The range is longer than ten years."]})
        return attrs


class AnalyticsMoneyOut(serializers.Serializer):
    amount_minor = serializers.IntegerField()
    currency = serializers.CharField()


class CouponBasisOut(serializers.Serializer):
    count = serializers.IntegerField()
    value = AnalyticsMoneyOut()


class FunnelStepOut(serializers.Serializer):
    step = serializers.CharField()
    count = serializers.IntegerField()
    base = serializers.CharField(allow_null=True, help_text="the earlier step compared with")
    conversion = serializers.FloatField(allow_null=True, help_text="share of the base (≤ 1)")
    per_base = serializers.FloatField(
        allow_null=True, help_text="count per unit of the base, where it can exceed it"
    )


class FunnelOut(serializers.Serializer):
    program = serializers.CharField(allow_null=True)
    to = serializers.DateField()
    rates = serializers.DictField(child=serializers.FloatField(allow_null=True))
    steps = FunnelStepOut(many=True)

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = serializers.DateField()
        for step in FUNNEL_STEPS:
            fields[step] = serializers.IntegerField()
        return fields


class KpisOut(serializers.Serializer):
    program = serializers.CharField(allow_null=True)
    to = serializers.DateField()
    referral_share = serializers.FloatField(allow_null=True)
    conversion_rate = serializers.FloatField(allow_null=True)
    referrals_per_referrer = serializers.FloatField(allow_null=True)
    participation_rate = serializers.FloatField(allow_null=True)
    reward_cost = AnalyticsMoneyOut()
    cost_per_referred_customer = AnalyticsMoneyOut(allow_null=True)
    fulfilment_rate = serializers.FloatField(allow_null=True)
    fraud_rate = serializers.FloatField(allow_null=True)
    referred_retention_90d = serializers.FloatField(allow_null=True)
    baseline_retention_90d = serializers.FloatField(allow_null=True)
    referred_repurchase_60d = serializers.FloatField(allow_null=True)
    baseline_repurchase_60d = serializers.FloatField(allow_null=True)
    referral_revenue_share = serializers.FloatField(allow_null=True)
    referred_ltv_365d = AnalyticsMoneyOut(allow_null=True)
    baseline_ltv_365d = AnalyticsMoneyOut(allow_null=True)
    ltv_to_cac = serializers.FloatField(allow_null=True)
    reward_cost_by_kind = serializers.DictField(child=AnalyticsMoneyOut())
    review_backlog = serializers.DictField(child=serializers.IntegerField())
    coupon_cost_basis = serializers.DictField(
        child=CouponBasisOut(),
        help_text="Percent coupons inside reward_cost: `redeemed` at what they took off an "
        "order, `expected` (not used yet) at the spec's estimated value or their cap.",
    )
    approved_unfulfilled = AnalyticsMoneyOut(
        help_text="Cash approved and not yet fulfilled now: committed, not yet in reward_cost."
    )
    not_yet = serializers.ListField(
        child=serializers.CharField(),
        help_text="Cohort KPIs (null here) whose window has not passed for every customer of "
        "the range yet.",
    )

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = serializers.DateField()
        return fields


class GroupFiguresOut(serializers.Serializer):
    customers = serializers.IntegerField()
    retention_30d = serializers.FloatField(allow_null=True)
    retention_90d = serializers.FloatField(allow_null=True)
    repurchase_60d = serializers.FloatField(allow_null=True)
    ltv_365d = AnalyticsMoneyOut(allow_null=True)


class ScoreOut(serializers.Serializer):
    people = serializers.IntegerField()
    average = serializers.FloatField(allow_null=True)


class SatisfactionOut(serializers.Serializer):
    referrers = ScoreOut()
    referred = ScoreOut()
    others = ScoreOut()


class ReferrerMeasuresOut(serializers.Serializer):
    program = serializers.CharField(allow_null=True)
    to = serializers.DateField()
    currency = serializers.CharField()
    cohort_age_days = serializers.IntegerField()
    referrers = GroupFiguresOut()
    non_referrers = GroupFiguresOut()
    referred = GroupFiguresOut()
    non_referred = GroupFiguresOut()
    satisfaction = SatisfactionOut()

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = serializers.DateField()
        return fields
