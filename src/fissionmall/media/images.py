"""The CPU side of an upload: check by content, orient, strip metadata, resize. Pure functions of bytes.

Called in a worker thread (never on the event loop). The type is what Pillow reads in the bytes, never the
file name or the client's Content-Type: a text file named .jpg is not an image, an SVG (which can carry
script) is not an accepted type, and the pixel count is checked from the header before anything is decoded.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

from fissionmall.core.errors import AppError
from fissionmall.media.errors import MediaError

WEB_SIDE = 1200  # the longest side of the copy the shop shows
THUMB_SIDE = 360
QUALITY = 85
ALLOWED = {"JPEG", "PNG", "WEBP"}
_EXT = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}
_MIME = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}


@dataclass(frozen=True)
class Rendition:
    data: bytes
    width: int
    height: int


@dataclass(frozen=True)
class Processed:
    sha256: str  # of the uploaded bytes
    format: str  # JPEG | PNG | WEBP, of the stored copies
    web: Rendition
    thumb: Rendition

    @property
    def ext(self) -> str:
        return _EXT[self.format]

    @property
    def mime(self) -> str:
        return _MIME[self.format]


def _looks_like_svg(data: bytes) -> bool:
    head = data[:2048].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return head.startswith(b"<") and (b"<svg" in head or b"<!doctype svg" in head)


def _open(data: bytes, *, max_pixels: int) -> Image.Image:
    """The decoded image, or the refusal that fits: not an image, a type we do not take, too many pixels."""
    if _looks_like_svg(data):
        raise AppError(MediaError.MEDIA_TYPE_NOT_ALLOWED)
    try:
        probe = Image.open(io.BytesIO(data))  # reads the header only
        fmt = probe.format or ""
        if fmt not in ALLOWED:
            raise AppError(MediaError.MEDIA_TYPE_NOT_ALLOWED)
        if probe.width * probe.height > max_pixels:
            raise AppError(MediaError.MEDIA_TOO_MANY_PIXELS)
        probe.verify()  # checks the file's structure; the object is unusable after it
        img = Image.open(io.BytesIO(data))
        img.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise AppError(MediaError.MEDIA_TOO_MANY_PIXELS) from None
    except AppError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):
        raise AppError(MediaError.MEDIA_NOT_IMAGE) from None
    return img


def _target_format(img: Image.Image, source: str) -> str:
    if source == "WEBP":
        return "WEBP"
    has_alpha = img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info)
    return "PNG" if source == "PNG" and has_alpha else "JPEG"


def _encode(img: Image.Image, fmt: str, side: int) -> Rendition:
    copy = img.copy()
    copy.info = {}  # nothing of the upload's metadata rides along to the encoder
    copy.thumbnail((side, side), Image.Resampling.LANCZOS)  # only ever shrinks
    out = io.BytesIO()
    # A fresh save with no exif=/xmp= passes writes none: EXIF (with GPS), XMP and comments are gone.
    # The ICC profile is kept so colours look the same.
    icc = img.info.get("icc_profile")
    extra = {"icc_profile": icc} if icc else {}
    if fmt == "JPEG":
        copy.save(out, "JPEG", quality=QUALITY, optimize=True, progressive=True, **extra)
    elif fmt == "WEBP":
        copy.save(out, "WEBP", quality=QUALITY, method=4, **extra)
    else:
        copy.save(out, "PNG", optimize=True, **extra)
    return Rendition(data=out.getvalue(), width=copy.width, height=copy.height)


def process(data: bytes, *, max_pixels: int) -> Processed:
    """Check `data` is an accepted image and make its web copy and thumbnail (oriented, metadata stripped)."""
    img = _open(data, max_pixels=max_pixels)
    try:
        return _renditions(img, hashlib.sha256(data).hexdigest())
    except (OSError, ValueError, SyntaxError) as exc:  # a broken EXIF block, a mode no encoder takes
        raise AppError(MediaError.MEDIA_NOT_IMAGE) from exc


def _renditions(img: Image.Image, sha: str) -> Processed:
    source = img.format or ""
    img = ImageOps.exif_transpose(img)  # the camera's orientation applied, so the pixels stand upright
    fmt = _target_format(img, source)
    if fmt == "JPEG":
        img = img.convert("RGB")
    elif fmt == "WEBP":
        img = img.convert("RGBA" if "A" in img.getbands() or "transparency" in img.info else "RGB")
    elif img.mode not in ("RGBA", "LA", "RGB", "L"):
        img = img.convert("RGBA")
    return Processed(sha256=sha, format=fmt, web=_encode(img, fmt, WEB_SIDE), thumb=_encode(img, fmt, THUMB_SIDE))
