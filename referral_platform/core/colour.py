"""Readable brand colours: WCAG 2 contrast between two sRGB colours, and the text colour
(black or white) that reads on a tenant's brand colour."""

from __future__ import annotations

from django.utils.translation import gettext as _

BLACK, WHITE = "#000000", "#ffffff"
TEXT_RATIO = 4.5  # WCAG AA, normal text
UI_RATIO = 3.0  # WCAG 1.4.11, borders and markers against the page


def _channel(value: int) -> float:
    c = value / 255
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def luminance(hex_colour: str) -> float:
    h = hex_colour.lstrip("#")
    if len(h) == 3:
        h = "".join(ch * 2 for ch in h)
    r, g, b = (int(h[i : i + 2], 16) for i in (0, 2, 4))
    return 0.2126 * _channel(r) + 0.7152 * _channel(g) + 0.0722 * _channel(b)


def contrast_ratio(a: str, b: str) -> float:
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def text_on(background: str) -> str:
    """White when it reaches 4.5:1 on the colour, else black (one of them always does:
    the worst case, mid-grey, still gives 4.58:1 with one of the two)."""
    return WHITE if contrast_ratio(WHITE, background) >= TEXT_RATIO else BLACK


def brand_colour_warnings(colour: str) -> list[str]:
    """What a tenant should know about a brand colour before its customers see it."""
    warnings = []
    white = contrast_ratio(WHITE, colour)
    if white < TEXT_RATIO:
        warnings.append(
            _(
                "White text on this colour reads at only %(ratio).2f:1 (4.5:1 is needed), "
                "so buttons on your customer pages will use black text."
            )
            % {"ratio": white}
        )
    if white < UI_RATIO:
        warnings.append(
            _(
                "This colour stands out from the white page at only %(ratio).2f:1 (3:1 is "
                "needed for borders and progress markers); a darker shade stays readable."
            )
            % {"ratio": white}
        )
    return warnings
