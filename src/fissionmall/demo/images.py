"""Locally rendered demo product pictures (Pillow only, no network)."""

from __future__ import annotations

import colorsys
import pathlib
import random
from functools import lru_cache

from PIL import Image, ImageDraw, ImageFilter, ImageFont

FONT_CANDIDATES: tuple[str, ...] = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
)

RGB = tuple[int, int, int]


def _hsv(h: float, s: float, v: float) -> RGB:
    r, g, b = colorsys.hsv_to_rgb(h % 1.0, s, v)
    return round(r * 255), round(g * 255), round(b * 255)


@lru_cache(maxsize=32)
def _font(px: int) -> ImageFont.FreeTypeFont | None:
    """First available CJK font at ``px`` pixels, or None if none is installed."""
    for candidate in FONT_CANDIDATES:
        path = pathlib.Path(candidate)
        if not path.is_file():
            continue
        # Noto CJK collections: face 2 is Simplified Chinese (SC).
        index = 2 if path.name.startswith("NotoSansCJK") else 0
        try:
            return ImageFont.truetype(str(path), px, index=index)
        except OSError:
            continue
    return None


def render_product_image(title: str, seed: int, path: pathlib.Path, size: int = 600) -> None:
    """Draw a deterministic square PNG "product photo" for ``title`` at ``path``."""
    rng = random.Random(seed)
    hue = (seed * 0.618033988749895) % 1.0
    top, bottom = _hsv(hue, 0.10, 1.0), _hsv(hue + 0.04, 0.32, 0.96)
    mask = Image.linear_gradient("L").resize((size, size))
    img = Image.composite(Image.new("RGB", (size, size), bottom), Image.new("RGB", (size, size), top), mask)

    # Title font (shrunk to fit); None when no CJK font is installed.
    px = int(size * 0.085)
    font = _font(px) if title else None
    while font is not None and px > 12 and font.getlength(title) > size * 0.86:
        px -= 2
        font = _font(px)

    # Soft halo, confetti dots and a blurred floor shadow (centred if untitled).
    cx, cy, u = size // 2, int(size * (0.42 if font else 0.48)), size / 100
    shade, pad = _hsv(hue, 0.6, 0.35), int(6 * u)
    shadow = Image.new("RGBA", (int(52 * u) + 2 * pad, int(8 * u) + 2 * pad), (*shade, 0))
    ImageDraw.Draw(shadow).ellipse((pad, pad, pad + 52 * u, pad + 8 * u), fill=(*shade, 90))
    layer = Image.new("RGBA", (size, size), (255, 255, 255, 0))
    d = ImageDraw.Draw(layer)
    d.ellipse((cx - 34 * u, cy - 34 * u, cx + 34 * u, cy + 34 * u), fill=(255, 255, 255, 120))
    for _ in range(7):
        x, y, r = rng.uniform(6, 94) * u, rng.uniform(6, 70) * u, rng.uniform(1.2, 3.2) * u
        d.ellipse((x - r, y - r, x + r, y + r), fill=(*_hsv(hue + rng.uniform(-0.1, 0.1), 0.45, 0.95), 150))
    shadow = shadow.filter(ImageFilter.GaussianBlur(u * 1.5))
    layer.alpha_composite(shadow, (int(cx - 26 * u) - pad, int(cy + 20 * u) - pad))
    img.paste(layer, (0, 0), layer)

    # The "package": a rounded box with lid, ribbon and a little tag.
    d2 = ImageDraw.Draw(img)
    body, lid, ribbon = _hsv(hue, 0.55, 0.88), _hsv(hue, 0.62, 0.74), _hsv(hue + 0.5, 0.28, 1.0)
    bx0, bx1, by0, by1 = cx - 22 * u, cx + 22 * u, cy - 8 * u, cy + 24 * u
    d2.rounded_rectangle((bx0, by0, bx1, by1), radius=int(3 * u), fill=body)
    d2.rounded_rectangle((bx0 - 3 * u, by0 - 10 * u, bx1 + 3 * u, by0 + 2 * u), radius=int(2.5 * u), fill=lid)
    d2.rectangle((cx - 4 * u, by0 - 10 * u, cx + 4 * u, by1), fill=ribbon)
    for sign in (-1, 1):
        d2.ellipse((cx + sign * 10 * u - 7 * u, by0 - 19 * u, cx + sign * 10 * u + 7 * u, by0 - 9 * u), fill=ribbon)
    d2.ellipse((cx - 4 * u, by0 - 16 * u, cx + 4 * u, by0 - 8 * u), fill=lid)
    d2.rounded_rectangle((bx0 + 5 * u, by1 - 12 * u, bx0 + 15 * u, by1 - 5 * u), radius=int(u), fill=(255, 255, 255))

    if font is not None:
        d2.text((cx, size * 0.86), title, font=font, fill=_hsv(hue, 0.7, 0.3), anchor="mm")

    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path, format="PNG", compress_level=4)
