import pytest

from referral_platform.core.colour import (
    BLACK,
    WHITE,
    brand_colour_warnings,
    contrast_ratio,
    text_on,
)


def test_contrast_ratio_matches_wcag():
    assert contrast_ratio(BLACK, WHITE) == pytest.approx(21.0)
    assert contrast_ratio("#1f6feb", WHITE) == pytest.approx(4.63, abs=0.01)
    assert contrast_ratio("#777777", WHITE) == pytest.approx(4.48, abs=0.01)


@pytest.mark.parametrize(
    ("brand", "text"),
    [("#1f6feb", WHITE), ("#2fb344", BLACK), ("#ffcc00", BLACK), ("#0a7d4f", WHITE)],
)
def test_text_on_the_brand_colour_reaches_four_and_a_half_to_one(brand, text):
    assert text_on(brand) == text
    assert contrast_ratio(text_on(brand), brand) >= 4.5


def test_every_grey_gets_a_readable_text_colour():
    for level in range(256):
        grey = f"#{level:02x}{level:02x}{level:02x}"
        assert contrast_ratio(text_on(grey), grey) >= 4.5


def test_the_warnings_name_what_a_colour_cannot_do():
    assert brand_colour_warnings("#1f6feb") == []
    # The green shop's buttons: 2.74:1 with white text.
    green = brand_colour_warnings("#2fb344")
    assert len(green) == 2 and "2.74:1" in green[0] and "black text" in green[0]
