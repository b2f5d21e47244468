from django import template

from fraud.signals import reason_text, signal_label

register = template.Library()


@register.filter
def signal_reason(signal) -> str:
    """`{{ s|signal_reason }}`: a stored signal's reason in the reader's language."""
    return reason_text(signal)


@register.filter(name="signal_label")
def signal_label_filter(code) -> str:
    """`{{ code|signal_label }}`: a signal's short name in the reader's language."""
    return signal_label(str(code))
