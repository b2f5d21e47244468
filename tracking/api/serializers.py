"""Input and output shapes of the tracking API. Serializers validate and render; they never write."""

from __future__ import annotations

from django.utils.translation import gettext as _
from rest_framework import serializers

from referral_platform.core import clock

from ..models import EventType
from ..services import FUTURE_TOLERANCE

EVENT_TYPES = [c for c, _ in EventType.choices]


class ParticipantInput(serializers.Serializer):
    external_id = serializers.CharField(max_length=200)
    email = serializers.CharField(max_length=254, required=False, allow_blank=True)
    phone = serializers.CharField(max_length=40, required=False, allow_blank=True)
    name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    locale = serializers.CharField(max_length=10, required=False, allow_blank=True)
    segments = serializers.ListField(child=serializers.CharField(max_length=80), required=False)
    attributes = serializers.DictField(required=False)


class EnrollmentInput(serializers.Serializer):
    participant = serializers.CharField(max_length=200)
    code = serializers.CharField(
        max_length=20, required=False, allow_blank=True, help_text="An optional vanity code."
    )


class MoneyInput(serializers.Serializer):
    amount_minor = serializers.IntegerField()
    currency = serializers.RegexField(r"^[A-Za-z]{3}$")


class EventParticipantInput(serializers.Serializer):
    external_id = serializers.CharField(max_length=200)
    email = serializers.CharField(max_length=254, required=False, allow_blank=True)
    phone = serializers.CharField(max_length=40, required=False, allow_blank=True)


class EventReferralInput(serializers.Serializer):
    code = serializers.CharField(max_length=32, required=False, allow_blank=True)
    click_id = serializers.CharField(max_length=26, required=False, allow_blank=True)


class EventContextInput(serializers.Serializer):
    ip = serializers.IPAddressField(required=False, allow_blank=True)
    user_agent = serializers.CharField(max_length=500, required=False, allow_blank=True)
    device_id = serializers.CharField(max_length=200, required=False, allow_blank=True)
    payment_fingerprint = serializers.CharField(max_length=200, required=False, allow_blank=True)
    address = serializers.CharField(max_length=500, required=False, allow_blank=True)


class EventInput(serializers.Serializer):
    event_id = serializers.CharField(max_length=200)
    type = serializers.ChoiceField(choices=EVENT_TYPES)
    occurred_at = serializers.DateTimeField(required=False)
    participant = EventParticipantInput()
    referral = EventReferralInput(required=False)
    order_id = serializers.CharField(max_length=200, required=False, allow_blank=True)
    amount = MoneyInput(required=False, allow_null=True)
    context = EventContextInput(required=False)
    properties = serializers.DictField(required=False)

    def validate_occurred_at(self, value):
        if value > clock.now() + FUTURE_TOLERANCE:
            minutes = int(FUTURE_TOLERANCE.total_seconds() // 60)
            raise serializers.ValidationError(
                _("Is in the future: more than %(minutes)s minutes ahead of our clock.")
                % {"minutes": minutes}
            )
        return value

    def validate(self, attrs):
        if attrs["type"] in ("purchase", "refund") and not attrs.get("amount"):
            raise serializers.ValidationError({"amount": ["Required for purchases and refunds."]})
        return attrs


class EventBatchInput(serializers.Serializer):
    events = serializers.ListField(
        child=serializers.DictField(), max_length=1000, allow_empty=False
    )


class ClaimInput(serializers.Serializer):
    program = serializers.SlugField()
    referee = serializers.CharField(max_length=200)
    referrer_code = serializers.CharField(max_length=32, required=False, allow_blank=True)
    referrer_phone = serializers.CharField(max_length=40, required=False, allow_blank=True)
    referrer_email = serializers.CharField(max_length=254, required=False, allow_blank=True)


class ReferralFilter(serializers.Serializer):
    program = serializers.SlugField(required=False)
    referrer = serializers.CharField(required=False)
    status = serializers.CharField(required=False)
    source = serializers.CharField(required=False)
    created_after = serializers.DateTimeField(required=False)


def participant_data(participant, enrollments=None) -> dict:
    data = {
        "external_id": participant.external_id,
        "email": participant.email,
        "phone": participant.phone,
        "name": participant.name,
        "locale": participant.locale,
        "segments": participant.segments,
        "attributes": participant.attributes,
        "opted_out": participant.opted_out_at is not None,
        "created_at": participant.created_at.isoformat(),
    }
    if enrollments is not None:
        data["enrollments"] = enrollments
    return data


def referral_data(
    referral, *, detail: bool = False, stages=None, assessments=None, rewards=None
) -> dict:
    data = {
        "id": referral.pk,
        "program": referral.program.slug,
        "referrer": referral.referrer.external_id,
        "referee": referral.referee.external_id,
        "status": referral.status,
        "source": referral.source,
        "code": referral.code,
        "click_id": referral.click_id or None,
        "created_at": referral.created_at.isoformat(),
        "status_changed_at": referral.status_changed_at.isoformat(),
        "reversed_at": referral.reversed_at.isoformat() if referral.reversed_at else None,
    }
    if detail:
        data["evidence"] = referral.evidence
        data["stages"] = [
            {
                "stage": s.stage_key,
                "status": s.status_set,
                "occurred_at": s.occurred_at.isoformat(),
                "due_at": s.due_at.isoformat() if s.due_at else None,
                "reversed_at": s.reversed_at.isoformat() if s.reversed_at else None,
            }
            for s in stages or []
        ]
        latest = (assessments or [None])[-1]
        data["fraud"] = (
            {
                "decision": latest.decision,
                "score": latest.score,
                "stage": latest.stage_key,
                "signals": [s.get("code") for s in latest.signals or [] if isinstance(s, dict)],
            }
            if latest
            else None
        )
        data["rewards"] = [
            {
                "id": r.pk,
                "participant": r.participant.external_id,
                "side": r.side,
                "reason": r.reason,
                "kind": r.kind,
                "amount": {"amount_minor": r.amount_minor, "currency": r.currency}
                if r.amount_minor is not None
                else None,
                "points": r.points,
                "status": r.status,
                "due_at": r.due_at.isoformat() if r.due_at else None,
            }
            for r in rewards or []
        ]
    return data


class EventQrInput(serializers.Serializer):
    code = serializers.CharField(max_length=32)
    event = serializers.RegexField(
        r"^[A-Za-z0-9_-]{1,40}$", help_text="Your name for the fair or stream."
    )
    expires_at = serializers.DateTimeField()
