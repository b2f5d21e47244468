"""Template filters of the staff reward pages."""

from django import template

from rewards.words import reward_words

register = template.Library()


@register.filter
def reward_value(reward) -> str:
    """A reward's value in words, as the participant reads it: "¥50 cash", "1 lottery ticket",
    "10% off, up to ¥500"."""
    return reward_words(reward)
