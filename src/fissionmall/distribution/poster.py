"""Share images: a QR code (qrcode) and a poster (Pillow) with the product picture, price, text and the code.

With WeChat configured the poster carries the mini-program code (小程序码, `code_png` from
getwxacodeunlimit), which opens the mini-program with the share scene; otherwise a QR code of the H5 link.

Rendering is CPU work, so the service runs it in a thread. Files are cached under var_dir by a hash of
everything drawn on them, so a price or picture change makes a new poster and an unchanged one is reused.
"""

from __future__ import annotations

import hashlib
import io
import pathlib
import secrets
from dataclasses import dataclass
from functools import lru_cache

import qrcode
from PIL import Image, ImageDraw, ImageFont

from fissionmall.core.money import yuan

FONT_CANDIDATES: tuple[str, ...] = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
)
W, H = 750, 1200
PLACEHOLDER_FILL = (255, 236, 230)
# A product picture is a photo: far past this it is a decompression bomb, not a picture to draw.
MAX_PICTURE_PIXELS = 40_000_000


@dataclass(frozen=True)
class PosterSpec:
    share_url: str
    title: str
    price_fen: int | None
    image_path: pathlib.Path | None  # already checked to lie inside the media directory (core.media)
    inviter: str
    code_png: bytes | None = None  # the mini-program code; None: a QR code of share_url

    @property
    def text(self) -> str:
        return "长按识别小程序码，立即购买" if self.code_png else "长按识别二维码，立即购买"

    def digest(self) -> str:
        try:
            mtime = self.image_path.stat().st_mtime_ns if self.image_path else 0
        except OSError:  # removed since it was looked up: drawn as the placeholder
            mtime = 0
        code = hashlib.sha256(self.code_png).hexdigest()[:16] if self.code_png else "qr"
        raw = f"{self.share_url}|{self.title}|{self.price_fen}|{self.image_path}|{mtime}|{self.inviter}|{code}|v2"
        return hashlib.sha256(raw.encode()).hexdigest()[:24]


@lru_cache(maxsize=16)
def _font(px: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    for candidate in FONT_CANDIDATES:
        path = pathlib.Path(candidate)
        if path.is_file():
            try:
                return ImageFont.truetype(str(path), px, index=2 if path.name.startswith("NotoSansCJK") else 0)
            except OSError:
                continue
    return ImageFont.load_default()


def qr_image(data: str, box: int = 10) -> Image.Image:
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=box, border=2)
    qr.add_data(data)
    qr.make(fit=True)
    return qr.make_image(fill_color="black", back_color="white").get_image().convert("RGB")


def _wrap(
    draw: ImageDraw.ImageDraw, text: str, font: ImageFont.FreeTypeFont | ImageFont.ImageFont, width: int
) -> list[str]:
    lines, cur = [], ""
    for ch in text:
        if draw.textlength(cur + ch, font=font) > width and cur:
            lines.append(cur)
            cur = ch
        else:
            cur += ch
    if cur:
        lines.append(cur)
    return lines[:2]


def _picture(path: pathlib.Path | None) -> Image.Image | None:
    """The product picture cropped square at W×W, or None when there is none or it cannot be read (a
    broken upload, a file that is no image, one too large to decode safely): the poster then shows the
    placeholder instead of failing for every distributor of the product."""
    if path is None or not path.is_file():
        return None
    try:
        with Image.open(path) as raw:
            if raw.width * raw.height > MAX_PICTURE_PIXELS:
                return None
            pic = raw.convert("RGB")
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        # OSError covers UnidentifiedImageError and truncated files; Pillow raises the others on bad headers.
        return None
    side = min(pic.size)
    if side == 0:
        return None
    left, top = (pic.width - side) // 2, (pic.height - side) // 2
    return pic.crop((left, top, left + side, top + side)).resize((W, W))


def draw_placeholder(img: Image.Image) -> None:
    draw = ImageDraw.Draw(img)
    draw.rectangle((0, 0, W, W), fill=PLACEHOLDER_FILL)
    draw.text((W // 2, W // 2), "裂变商城", fill=(230, 80, 60), font=_font(64), anchor="mm")


def render_poster(spec: PosterSpec) -> Image.Image:
    img = Image.new("RGB", (W, H), "white")
    draw = ImageDraw.Draw(img)
    pic = _picture(spec.image_path)
    if pic is not None:
        img.paste(pic, (0, 0))
    else:
        draw_placeholder(img)
    y = W + 30
    for line in _wrap(draw, spec.title, _font(36), W - 60):
        draw.text((30, y), line, fill=(30, 30, 30), font=_font(36))
        y += 50
    if spec.price_fen is not None:
        draw.text((30, y + 10), "¥" + yuan(spec.price_fen), fill=(230, 40, 40), font=_font(56))
    if spec.code_png:
        with Image.open(io.BytesIO(spec.code_png)) as raw_code:
            code = raw_code.convert("RGB").resize((220, 220))
    else:
        code = qr_image(spec.share_url, box=6).resize((220, 220))
    img.paste(code, (W - 250, H - 250))
    draw.text((30, H - 180), f"{spec.inviter} 为你推荐", fill=(90, 90, 90), font=_font(30))
    draw.text((30, H - 130), spec.text, fill=(150, 150, 150), font=_font(28))
    return img


def save_png(data: bytes, path: pathlib.Path) -> None:
    """Keep an image WeChat made (the mini-program code), written atomically like the others."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{secrets.token_hex(4)}.tmp")
    tmp.write_bytes(data)
    tmp.replace(path)


def ensure_files(spec: PosterSpec, folder: pathlib.Path) -> tuple[str, str]:
    """Write (or reuse) the QR and poster PNGs; returns their file names."""
    folder.mkdir(parents=True, exist_ok=True)
    key = spec.digest()
    qr_name, poster_name = f"{key}-qr.png", f"{key}-poster.png"
    if not (folder / qr_name).is_file():
        _atomic_save(qr_image(spec.share_url), folder / qr_name)
    if not (folder / poster_name).is_file():
        _atomic_save(render_poster(spec), folder / poster_name)
    return qr_name, poster_name


def _atomic_save(img: Image.Image, path: pathlib.Path) -> None:
    tmp = path.with_suffix(f".{secrets.token_hex(4)}.tmp")
    img.save(tmp, format="PNG", optimize=True)
    tmp.replace(path)
