from django import template

from fraud.signals import reason_text

register = template.Library()


@register.filter
def signal_reason(signal) -> str:
    """`{{ s|signal_reason }}`: a stored signal's reason in the reader's language."""
    return reason_text(signal)
