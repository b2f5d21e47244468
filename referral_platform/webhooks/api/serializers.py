from rest_framework import serializers

from ..models import EVENT_TYPES


class EndpointInput(serializers.Serializer):
    url = serializers.URLField(max_length=500)
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=EVENT_TYPES), allow_empty=True, default=list
    )
    description = serializers.CharField(
        max_length=200, required=False, default="", allow_blank=True
    )


class EndpointCreated(serializers.Serializer):
    id = serializers.IntegerField()
    secret = serializers.CharField()


class EndpointOutput(serializers.Serializer):
    id = serializers.IntegerField()
    url = serializers.CharField()
    events = serializers.ListField(child=serializers.CharField())
    is_active = serializers.BooleanField()
    created_at = serializers.DateTimeField()
