"""Template filters of the program pages."""

from django import template

from programs.specforms import path_label

register = template.Library()


@register.filter
def spec_label(path: str) -> str:
    """A spec path as the builder names its field ("Stages 2 › Rewards 1 › Amount")."""
    return path_label(str(path))
