from django import template

from tracking.attribution import evidence_label
from tracking.models import AttributionSource

register = template.Library()


@register.filter
def evidence(code) -> str:
    """`{{ evidence.reason|evidence }}`: an attribution evidence code in the reader's language."""
    return evidence_label(str(code or ""))


@register.filter
def touch_source(code) -> str:
    """`{{ t.source|touch_source }}`: a touch's source (link, QR code …) as staff read it."""
    try:
        return str(AttributionSource(code).label)
    except ValueError:
        return str(code or "")
