"""Input and output shapes of the tracking API. Serializers validate and render; they never write."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_ipv4_address
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from rest_framework import serializers

from referral_platform.core import clock
from referral_platform.core.api.inputcheck import BIGINT_MAX, BIGINT_MIN, json_problems

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
    amount_minor = serializers.IntegerField(min_value=BIGINT_MIN, max_value=BIGINT_MAX)
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

    def validate_properties(self, value):
        # Keys and values PostgreSQL's jsonb cannot hold (NUL, lone surrogates, numbers
        # beyond bigint or not finite), each named by its path under `properties`.
        problems = json_problems(value)
        if problems:
            raise serializers.ValidationError(problems)
        return value

    def validate(self, attrs):
        if attrs["type"] in ("purchase", "refund") and not attrs.get("amount"):
            raise serializers.ValidationError({"amount": ["Required for purchases and refunds."]})
        return attrs


def event_validate(data) -> dict:
    """EventInput's validated data, or its ValidationError."""
    plain = event_plain(data)
    if plain is not None:
        return plain
    serializer = EventInput(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


# --- The well-formed event, validated without DRF ----------------------------------------
# EventInput copies its fields and the four nested serializers' for every event: most of the
# 0.35 ms it took to say yes to an ordinary event. event_plain() says yes to the ordinary
# one (strings already trimmed, an ASCII IPv4, an aware occurred_at, an integer amount) with
# EventInput's own limits and returns the same validated data; anything else, invalid or
# merely unusual, it leaves to EventInput (None), whose errors the API answers with.
# test_event_validation checks that it never accepts what EventInput refuses.


def _char_fields(serializer) -> dict[str, tuple[int | None, bool, bool]]:
    """(max_length, allow_blank, required) of a serializer's plain CharFields."""
    return {
        name: (field.max_length, field.allow_blank, field.required)
        for name, field in serializer.fields.items()
        if type(field) is serializers.CharField
    }


_EVENT = EventInput()
_TYPES = frozenset(EVENT_TYPES)
_TOP = _char_fields(_EVENT)  # event_id, order_id
_PARTICIPANT = _char_fields(_EVENT.fields["participant"])
_REFERRAL = _char_fields(_EVENT.fields["referral"])
_CONTEXT = _char_fields(_EVENT.fields["context"])  # all but ip, an IPAddressField


def _text(value, max_length: int | None, allow_blank: bool) -> bool:
    """Whether a CharField takes `value` and keeps it as it is."""
    if type(value) is not str or value != value.strip():
        return False
    if max_length is not None and len(value) > max_length:
        return False
    if not value:
        return allow_blank
    if "\x00" in value:
        return False
    try:
        value.encode()  # lone surrogates, which CharField refuses
    except UnicodeEncodeError:
        return False
    return True


def _texts(data, fields: dict) -> dict | None:
    if type(data) is not dict:
        return None
    out = {}
    for name, (max_length, allow_blank, required) in fields.items():
        if name in data:
            if not _text(data[name], max_length, allow_blank):
                return None
            out[name] = data[name]
        elif required:
            return None
    return out


def _occurred_at(value):
    if type(value) is not str:
        return None
    try:
        parsed = parse_datetime(value)
    except ValueError:
        return None
    if parsed is None or not timezone.is_aware(parsed):
        return None
    try:
        parsed = parsed.astimezone(timezone.get_current_timezone())
    except OverflowError:
        return None
    return parsed if parsed <= clock.now() + FUTURE_TOLERANCE else None


def _amount(value):
    """MoneyInput's data, None (null, allowed), or False."""
    if value is None:
        return None
    if type(value) is not dict:
        return False
    minor, currency = value.get("amount_minor"), value.get("currency")
    if type(minor) is not int or type(currency) is not str or len(currency) != 3:
        return False
    if not (currency.isascii() and currency.isalpha()):
        return False
    if not BIGINT_MIN <= minor <= BIGINT_MAX:
        return False
    return {"amount_minor": minor, "currency": currency}


def _context(value) -> dict | None:
    out = _texts(value, _CONTEXT)
    if out is None or "ip" not in value:
        return out
    ip = value["ip"]
    if not _text(ip, 45, True):
        return None
    if ip:
        try:
            validate_ipv4_address(ip)  # IPv6, which IPAddressField rewrites, is left to it
        except DjangoValidationError:
            return None
    out["ip"] = ip
    return out


def event_plain(data) -> dict | None:
    """EventInput's validated data for an ordinary well-formed event; None for anything else."""
    out = _texts(data, _TOP)
    if out is None or type(data.get("type")) is not str or data["type"] not in _TYPES:
        return None
    out["type"] = data["type"]
    out["participant"] = _texts(data.get("participant"), _PARTICIPANT)
    if out["participant"] is None:
        return None
    if "occurred_at" in data:
        out["occurred_at"] = _occurred_at(data["occurred_at"])
        if out["occurred_at"] is None:
            return None
    if "referral" in data:
        out["referral"] = _texts(data["referral"], _REFERRAL)
        if out["referral"] is None:
            return None
    if "amount" in data:
        out["amount"] = _amount(data["amount"])
        if out["amount"] is False:
            return None
    if "context" in data:
        out["context"] = _context(data["context"])
        if out["context"] is None:
            return None
    if "properties" in data:
        if type(data["properties"]) is not dict or json_problems(data["properties"]):
            return None
        out["properties"] = dict(data["properties"])
    if out["type"] in ("purchase", "refund") and not out.get("amount"):
        return None  # EventInput.validate's refusal
    return out


class _AnyJSON(serializers.Field):
    """Parsed JSON taken as it is (JSONField would re-encode it, deeply nested or not)."""

    def to_internal_value(self, data):
        return data

    def to_representation(self, value):
        return value


class EventBatchInput(serializers.Serializer):
    # Any JSON per entry: each entry is validated on its own and answered by its index, so
    # one that is not even an object spoils only its own result.
    events = serializers.ListField(
        child=_AnyJSON(allow_null=True), max_length=1000, allow_empty=False
    )


class EventBatchSchema(serializers.Serializer):
    """What the documentation shows a batch to be: a list of events."""

    events = EventInput(many=True, max_length=1000, allow_empty=False)


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
