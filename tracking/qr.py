"""QR codes and posters (qrcode + Pillow), and signed event QR links."""

from __future__ import annotations

import hashlib
import hmac
import io
import textwrap
from functools import lru_cache
from pathlib import Path

import qrcode
import qrcode.image.svg
from django.conf import settings
from PIL import Image, ImageDraw, ImageFont

from referral_platform.core.colour import text_on

FONT_PATH = Path(settings.BASE_DIR) / "static" / "fonts" / "NotoSansSC-Regular-subset.otf"


def qr_target(code: str) -> str:
    return f"{settings.PUBLIC_BASE_URL}/r/{code}?s=qr"


def _qr(data: str) -> qrcode.QRCode:
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=10, border=4)
    qr.add_data(data)
    qr.make(fit=True)
    return qr


def qr_png(data: str, *, colour: str = "#000000") -> bytes:
    image = _qr(data).make_image(fill_color=colour, back_color="white").get_image()
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def qr_svg(data: str) -> bytes:
    image = _qr(data).make_image(image_factory=qrcode.image.svg.SvgPathImage)
    return image.to_string(encoding="unicode").encode()


@lru_cache(maxsize=8)
def font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(FONT_PATH), size)


def _hex(colour: str) -> tuple[int, int, int]:
    colour = colour.lstrip("#")
    if len(colour) != 6:
        colour = "1f6feb"
    return tuple(int(colour[i : i + 2], 16) for i in (0, 2, 4))


def _wrap(text: str, width: int) -> list[str]:
    """CJK has no spaces to break at: wrap by characters when a line has none."""
    if " " in text.strip():
        return textwrap.wrap(text, width=width)
    return [text[i : i + width // 2] for i in range(0, len(text), width // 2)] or [""]


def poster_png(
    *,
    code: str,
    referrer_name: str,
    headline: str,
    body: str,
    invite_line: str,
    scan_line: str,
    brand_colour: str,
    tenant_name: str,
) -> bytes:
    """1080×1350: a brand band with the tenant's name, who invites, the offer, the QR."""
    width, height = 1080, 1350
    brand = _hex(brand_colour)
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    draw.rectangle([0, 0, width, 260], fill=brand)
    band_text = text_on(brand_colour)  # black or white, whichever reads at 4.5:1 on the band
    draw.text((width // 2, 130), tenant_name, font=font(64), fill=band_text, anchor="mm")
    y = 330
    for line in _wrap(invite_line, 34):
        draw.text((width // 2, y), line, font=font(52), fill=(20, 20, 20), anchor="mm")
        y += 70
    y += 10
    for line in _wrap(headline, 36):
        draw.text((width // 2, y), line, font=font(44), fill=brand, anchor="mm")
        y += 60
    for line in _wrap(body, 48)[:2]:
        draw.text((width // 2, y), line, font=font(32), fill=(90, 90, 90), anchor="mm")
        y += 46
    qr_image = _qr(qr_target(code)).make_image(fill_color="black", back_color="white").get_image()
    qr_image = qr_image.convert("RGB").resize((560, 560), Image.NEAREST)
    image.paste(qr_image, ((width - 560) // 2, max(y + 20, 600)))
    draw.text((width // 2, height - 120), scan_line, font=font(36), fill=(60, 60, 60), anchor="mm")
    draw.text((width // 2, height - 60), code, font=font(40), fill=brand, anchor="mm")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def text_png(text: str, *, size: int = 48) -> Image.Image:
    """One line in the poster font on white: lets tests compare glyphs with tofu."""
    image = Image.new("L", (size * max(len(text), 1) + 20, size * 2), 255)
    ImageDraw.Draw(image).text((10, size // 2), text, font=font(size), fill=0)
    return image


# --- Event QR: per-event links for fairs and live streams ----------------------------------


def _event_sig(code: str, event_key: str, expires: int) -> str:
    key = settings.SECRET_KEY.encode()
    message = f"tracking.event_qr|{code}|{event_key}|{expires}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:20]


def event_qr_url(code: str, event_key: str, expires: int) -> str:
    """`/r/<code>?s=event&e=<key>&x=<unix expiry>&sig=<signature>` (SEMANTICS §3)."""
    sig = _event_sig(code, event_key, expires)
    return f"{settings.PUBLIC_BASE_URL}/r/{code}?s=event&e={event_key}&x={expires}&sig={sig}"


def event_qr_valid(code: str, event_key: str, expires: str, sig: str, now_unix: int) -> bool:
    try:
        expires_at = int(expires)
    except (TypeError, ValueError):
        return False
    if not event_key or expires_at < now_unix:
        return False
    return hmac.compare_digest(_event_sig(code, event_key, expires_at), sig or "")


def event_qr_links(code: str, event_key: str, expires: int) -> dict:
    """The signed link and the image of its QR, for a fair or a live stream."""
    url = event_qr_url(code, event_key, expires)
    query = url.split("?", 1)[1].replace("s=event&", "")
    return {"url": url, "qr_png_url": f"{settings.PUBLIC_BASE_URL}/qr/{code}/event.png?{query}"}
