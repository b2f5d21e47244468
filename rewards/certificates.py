"""The donor's e-certificate: a PNG drawn with Pillow in the committed CJK font when present."""

from __future__ import annotations

import io
from pathlib import Path

from django.conf import settings
from django.utils.translation import gettext as _

from referral_platform.core.money import format_minor


def _font(size: int):
    from PIL import ImageFont

    for path in sorted(Path(settings.BASE_DIR, "static", "fonts").glob("*.[ot]tf")):
        try:
            return ImageFont.truetype(str(path), size)
        except OSError:
            continue
    return ImageFont.load_default(size=size)


def certificate_available(reward) -> bool:
    """A donation has its certificate once it reached the charity (fulfilled): a pending one
    can still be reversed by a refund inside its hold."""
    from .models import RewardKind, RewardStatus

    return reward.kind == RewardKind.DONATION and reward.status == RewardStatus.FULFILLED


def certificate_for_donor(reward) -> bool:
    """What the donor may download in the portal: the certificate of a fulfilled donation,
    when the program's charity offers certificates (`charity.certificate` in the version the
    reward was made under)."""
    version = reward.program_version
    spec = version.spec if version is not None else reward.program.spec
    return certificate_available(reward) and bool((spec.get("charity") or {}).get("certificate"))


def donation_certificate_png(reward) -> bytes:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (1200, 800), "white")
    draw = ImageDraw.Draw(image)
    draw.rectangle([30, 30, 1170, 770], outline="#1f6feb", width=6)
    name = reward.participant.name or reward.participant.external_id
    lines = [
        (_("Certificate of donation"), 64, 140),
        (name, 52, 300),
        (
            _("donated %(amount)s through %(program)s")
            % {
                "amount": format_minor(reward.amount_minor, reward.currency),
                "program": reward.program.name,
            },
            36,
            400,
        ),
        (reward.fulfilled_at.date().isoformat() if reward.fulfilled_at else "", 30, 480),
        (_("Certificate no. %(id)s") % {"id": reward.pk}, 24, 680),
    ]
    for text, size, y in lines:
        font = _font(size)
        width = draw.textlength(text, font=font)
        draw.text(((1200 - width) / 2, y), text, fill="#1d273b", font=font)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()
