"""Locally rendered demo product pictures (Pillow only, no network).

Each category has its own colour and motif (an orange for fruit, a cookie for snacks, a bottle for
beauty, a mug for home goods, a phone for gadgets, a feeding bottle for baby goods), so a shelf reads at a
glance. No title is printed on the picture: the shop shows the title right beside it.
"""

from __future__ import annotations

import colorsys
import io
import pathlib
import random
from collections.abc import Callable

from PIL import Image, ImageDraw, ImageFilter

RGB = tuple[int, int, int]
Draw = ImageDraw.ImageDraw

# category -> base hue (0..1); unknown categories get a hue from their name
CATEGORY_HUES: dict[str, float] = {
    "生鲜水果": 0.08,
    "休闲零食": 0.11,
    "美妆个护": 0.93,
    "家居日用": 0.36,
    "数码配件": 0.60,
    "母婴用品": 0.53,
}


def _hsv(h: float, s: float, v: float) -> RGB:
    r, g, b = colorsys.hsv_to_rgb(h % 1.0, s, v)
    return round(r * 255), round(g * 255), round(b * 255)


def _fruit(d: Draw, cx: float, cy: float, u: float, h: float) -> None:
    d.ellipse((cx - 26 * u, cy - 24 * u, cx + 26 * u, cy + 28 * u), fill=_hsv(h, 0.8, 0.95))
    d.ellipse((cx - 16 * u, cy - 14 * u, cx - 6 * u, cy - 4 * u), fill=_hsv(h, 0.35, 1.0))
    d.rectangle((cx - 1.5 * u, cy - 34 * u, cx + 1.5 * u, cy - 22 * u), fill=_hsv(0.08, 0.6, 0.4))
    d.ellipse((cx + 1 * u, cy - 36 * u, cx + 20 * u, cy - 26 * u), fill=_hsv(0.3, 0.7, 0.65))


def _snack(d: Draw, cx: float, cy: float, u: float, h: float) -> None:
    d.ellipse((cx - 28 * u, cy - 28 * u, cx + 28 * u, cy + 28 * u), fill=_hsv(h, 0.55, 0.85))
    d.ellipse((cx - 24 * u, cy - 24 * u, cx + 24 * u, cy + 24 * u), fill=_hsv(h, 0.45, 0.93))
    rng = random.Random(int(cx * 7 + cy))
    for _ in range(9):
        x, y = cx + rng.uniform(-16, 16) * u, cy + rng.uniform(-16, 16) * u
        d.ellipse((x - 3 * u, y - 3 * u, x + 3 * u, y + 3 * u), fill=_hsv(0.07, 0.7, 0.35))


def _beauty(d: Draw, cx: float, cy: float, u: float, h: float) -> None:
    d.rounded_rectangle(
        (cx - 16 * u, cy - 14 * u, cx + 16 * u, cy + 32 * u), radius=int(6 * u), fill=_hsv(h, 0.4, 0.97)
    )
    d.rectangle((cx - 7 * u, cy - 26 * u, cx + 7 * u, cy - 14 * u), fill=_hsv(h, 0.15, 0.85))
    d.rounded_rectangle((cx - 10 * u, cy - 34 * u, cx + 10 * u, cy - 25 * u), radius=int(2 * u), fill=_hsv(h, 0.7, 0.7))
    d.rounded_rectangle((cx - 10 * u, cy + 2 * u, cx + 10 * u, cy + 16 * u), radius=int(2 * u), fill=(255, 255, 255))


def _home(d: Draw, cx: float, cy: float, u: float, h: float) -> None:
    body = _hsv(h, 0.5, 0.8)
    d.ellipse((cx + 12 * u, cy - 10 * u, cx + 34 * u, cy + 14 * u), outline=body, width=int(5 * u))
    d.rounded_rectangle((cx - 24 * u, cy - 20 * u, cx + 20 * u, cy + 28 * u), radius=int(6 * u), fill=body)
    d.rectangle((cx - 24 * u, cy - 20 * u, cx + 20 * u, cy - 12 * u), fill=_hsv(h, 0.6, 0.65))
    for dx in (-10, 0, 10):
        d.arc(
            (cx + (dx - 4) * u, cy - 40 * u, cx + (dx + 4) * u, cy - 24 * u),
            90,
            270,
            fill=(255, 255, 255),
            width=int(2 * u),
        )


def _digital(d: Draw, cx: float, cy: float, u: float, h: float) -> None:
    d.rounded_rectangle(
        (cx - 18 * u, cy - 32 * u, cx + 18 * u, cy + 32 * u), radius=int(6 * u), fill=_hsv(h, 0.65, 0.35)
    )
    d.rounded_rectangle(
        (cx - 15 * u, cy - 26 * u, cx + 15 * u, cy + 24 * u), radius=int(2 * u), fill=_hsv(h, 0.45, 0.95)
    )
    d.ellipse((cx - 2.5 * u, cy + 26 * u, cx + 2.5 * u, cy + 31 * u), fill=(255, 255, 255))
    d.polygon([(cx + 2 * u, cy - 14 * u), (cx - 7 * u, cy + 2 * u), (cx, cy + 2 * u), (cx - 3 * u, cy + 14 * u),
               (cx + 8 * u, cy - 3 * u), (cx + 1 * u, cy - 3 * u)], fill=(255, 255, 255))  # fmt: skip


def _baby(d: Draw, cx: float, cy: float, u: float, h: float) -> None:
    d.rounded_rectangle((cx - 15 * u, cy - 14 * u, cx + 15 * u, cy + 32 * u), radius=int(8 * u), fill=(255, 255, 255))
    for y in (0, 10, 20):
        d.line((cx - 15 * u, cy + y * u, cx - 7 * u, cy + y * u), fill=_hsv(h, 0.5, 0.7), width=int(1.5 * u))
    d.rectangle((cx - 17 * u, cy - 20 * u, cx + 17 * u, cy - 13 * u), fill=_hsv(h, 0.6, 0.8))
    d.pieslice((cx - 9 * u, cy - 36 * u, cx + 9 * u, cy - 14 * u), 180, 360, fill=_hsv(0.12, 0.45, 0.98))


MOTIFS: dict[str, Callable[[Draw, float, float, float, float], None]] = {
    "生鲜水果": _fruit,
    "休闲零食": _snack,
    "美妆个护": _beauty,
    "家居日用": _home,
    "数码配件": _digital,
    "母婴用品": _baby,
}
_FALLBACK = (_fruit, _snack, _beauty, _home, _digital, _baby)


def render_product_image(
    path: pathlib.Path, *, category: str, seed: int = 0, size: int = 600, variant: int = 0
) -> None:
    """Draw a deterministic square PNG for a product of `category` at `path` (`variant` 0, 1, 2: a gallery).

    It takes no title on purpose: the picture carries no text, so nothing reads twice beside the shop's title."""
    key = sum(map(ord, category))
    hue = CATEGORY_HUES.get(category, (key * 0.618033988749895) % 1.0)
    hue += ((seed % 3) - 1) * 0.03  # products of one category differ a little
    motif = MOTIFS.get(category) or _FALLBACK[key % len(_FALLBACK)]
    rng = random.Random(seed * 10 + variant)
    top = _hsv(hue, 0.08 + 0.05 * variant, 1.0)
    bottom = _hsv(hue + 0.03, 0.30 + 0.06 * variant, 0.96)
    mask = Image.linear_gradient("L").resize((size, size))
    if variant == 1:
        mask = mask.rotate(90)
    img = Image.composite(Image.new("RGB", (size, size), bottom), Image.new("RGB", (size, size), top), mask)

    u = size / 100
    layer = Image.new("RGBA", (size, size), (255, 255, 255, 0))
    d = ImageDraw.Draw(layer)
    for _ in range(8):  # confetti
        x, y, r = rng.uniform(6, 94) * u, rng.uniform(6, 94) * u, rng.uniform(1.2, 3.4) * u
        d.ellipse((x - r, y - r, x + r, y + r), fill=(*_hsv(hue + rng.uniform(-0.1, 0.1), 0.45, 0.95), 150))
    cx, cy = size / 2, size * 0.48
    d.ellipse((cx - 38 * u, cy - 38 * u, cx + 38 * u, cy + 38 * u), fill=(255, 255, 255, 110))
    shade = _hsv(hue, 0.6, 0.35)
    # The soft shadow is blurred at a quarter size and scaled up: blurring the full picture was half the time
    # of a drawing, and the demo draws a gallery for every product on each fresh start.
    q = size // 4
    shadow = Image.new("RGBA", (q, q), (*shade, 0))
    ImageDraw.Draw(shadow).ellipse((q / 2 - 6.5 * q / 25, q * 0.81, q / 2 + 6.5 * q / 25, q * 0.89), fill=(*shade, 80))
    blurred = shadow.filter(ImageFilter.GaussianBlur(q * 0.015))
    layer.alpha_composite(blurred.resize((size, size), Image.Resampling.BILINEAR))
    img.paste(layer, (0, 0), layer)

    draw = ImageDraw.Draw(img)
    if variant == 2:  # a "pair": two smaller ones side by side
        for dx in (-20, 20):
            motif(draw, cx + dx * u, cy + 4 * u, u * 0.62, hue)
    else:
        motif(draw, cx, cy, u * (1.0 if variant == 0 else 0.85), hue)

    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path, format="PNG", compress_level=4)


# ---- 首页轮播图 ------------------------------------------------------------------------------------
# No text on the banners either: a CJK font is not on every machine the demo runs on, and the banner's title
# is its alt text. Each is a wide 5:2 picture with one motif: a gift box (新人礼包), a lightning bolt and a
# clock (限时秒杀).
BANNER_SIZE = (750, 300)


def _gift(d: Draw, w: int, h: int, img: Image.Image) -> None:
    x0, y0, x1, y1 = w * 0.07, h * 0.26, w * 0.36, h * 0.74
    px = img.getpixel((int(x0 + (x1 - x0) * 0.34), int(y0)))  # the ground the notches cut through
    ground: RGB = (int(px[0]), int(px[1]), int(px[2])) if isinstance(px, tuple) else (255, 255, 255)
    _ticket(d, x0, y0, x1, y1, ground)
    x0, y0, x1, y1 = w * 0.60, h * 0.34, w * 0.86, h * 0.86
    d.rounded_rectangle((x0, y0, x1, y1), radius=10, fill=(255, 236, 200))
    d.rounded_rectangle((x0 - 10, y0 - 30, x1 + 10, y0 + 8), radius=8, fill=(255, 248, 232))
    cx = (x0 + x1) / 2
    d.rectangle((cx - 12, y0 - 30, cx + 12, y1), fill=(214, 40, 57))
    d.ellipse((cx - 58, y0 - 78, cx - 2, y0 - 28), outline=(214, 40, 57), width=12)
    d.ellipse((cx + 2, y0 - 78, cx + 58, y0 - 28), outline=(214, 40, 57), width=12)


def _flash(d: Draw, w: int, h: int, img: Image.Image) -> None:
    cx, cy, r = w * 0.74, h * 0.52, h * 0.34
    d.ellipse((cx - r, cy - r, cx + r, cy + r), fill=(255, 250, 240), outline=(255, 214, 102), width=10)
    d.line((cx, cy, cx, cy - r * 0.7), fill=(60, 30, 90), width=9)
    d.line((cx, cy, cx + r * 0.5, cy + r * 0.2), fill=(60, 30, 90), width=9)
    bolt = [(w * 0.30, h * 0.10), (w * 0.20, h * 0.55), (w * 0.28, h * 0.55), (w * 0.22, h * 0.92),
            (w * 0.38, h * 0.42), (w * 0.30, h * 0.42), (w * 0.36, h * 0.10)]  # fmt: skip
    d.polygon(bolt, fill=(255, 214, 102))


def _ticket(d: Draw, x0: float, y0: float, x1: float, y1: float, ground: RGB) -> None:
    """A coupon ticket: notches on both sides and a dashed tear line (the 领券 everyone recognises)."""
    d.rounded_rectangle((x0, y0, x1, y1), radius=14, fill=(255, 250, 240, 240))
    cut, r = x0 + (x1 - x0) * 0.34, (y1 - y0) * 0.12
    d.ellipse((cut - r, y0 - r, cut + r, y0 + r), fill=ground)
    d.ellipse((cut - r, y1 - r, cut + r, y1 + r), fill=ground)
    y = y0 + r * 1.6
    while y < y1 - r * 1.6:
        d.line((cut, y, cut, y + 8), fill=(230, 120, 100), width=3)
        y += 16
    mid = (y0 + y1) / 2
    d.rounded_rectangle((x0 + 18, mid - 22, cut - 18, mid + 22), radius=8, fill=(*ground, 255))
    d.rounded_rectangle((cut + 20, mid - 28, x1 - 20, mid - 8), radius=6, fill=(*ground, 160))
    d.rounded_rectangle((cut + 20, mid + 6, x1 - 50, mid + 22), radius=6, fill=(*ground, 110))


BANNER_ART: dict[str, tuple[RGB, RGB, Callable[[Draw, int, int, Image.Image], None]]] = {
    "newcomer": ((255, 94, 77), (255, 160, 90), _gift),
    "flash": ((120, 40, 200), (230, 50, 90), _flash),
}


def banner_png(kind: str) -> bytes:
    """A deterministic wide PNG for the demo's home carousel (`kind`: newcomer or flash)."""
    left, right, motif = BANNER_ART[kind]
    w, h = BANNER_SIZE
    mask = Image.linear_gradient("L").rotate(90).resize((w, h))
    img = Image.composite(Image.new("RGB", (w, h), left), Image.new("RGB", (w, h), right), mask)
    d = ImageDraw.Draw(img, "RGBA")
    rng = random.Random(kind)
    for _ in range(14):  # confetti
        x, y, r = rng.uniform(0, w), rng.uniform(0, h), rng.uniform(4, 14)
        d.ellipse((x - r, y - r, x + r, y + r), fill=(255, 255, 255, 60))
    motif(d, w, h, img)
    out = io.BytesIO()
    img.save(out, format="PNG", compress_level=4)
    return out.getvalue()
