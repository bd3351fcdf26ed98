"""A shopper's after-sales photo (POST /me/uploads): checked by Pillow, EXIF (location, device) stripped by
re-encoding, size-capped, stored under media_dir/aftersales/<customer>/ and named by a random token.

Minimal and self-contained on purpose: the merchant media library (media/) can take it over later.
"""

from __future__ import annotations

import io
import secrets
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from fissionmall.core.errors import AppError
from fissionmall.orders.errors import OrdersError

MAX_BYTES = 5 * 1024 * 1024
MAX_SIDE = 2048
_FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}


def store_photo(*, media_dir: Path, customer_id: int, data: bytes) -> str:
    """Verify `data` is a JPEG/PNG/WEBP image, re-encode it without metadata and return its media URL."""
    if len(data) > MAX_BYTES:
        raise AppError(OrdersError.UPLOAD_TOO_LARGE, status=413)
    try:
        with Image.open(io.BytesIO(data)) as probe:
            probe.verify()
        img: Image.Image = Image.open(io.BytesIO(data))
        fmt = img.format or ""
        if fmt not in _FORMATS or img.width * img.height > 40_000_000:
            raise AppError(OrdersError.UPLOAD_NOT_IMAGE, status=422)
        img.load()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise AppError(OrdersError.UPLOAD_NOT_IMAGE, status=422) from exc
    img.thumbnail((MAX_SIDE, MAX_SIDE))
    if img.mode == "P":
        img = img.convert("RGBA")
    if fmt == "JPEG" and img.mode not in ("RGB", "L"):
        img = img.convert("RGB")
    # A fresh image from the pixels alone: no EXIF, GPS, XMP or ICC text survives.
    clean = Image.new(img.mode, img.size)
    clean.paste(img)
    folder = media_dir / "aftersales" / str(customer_id)
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{secrets.token_hex(12)}.{_FORMATS[fmt]}"
    clean.save(folder / name, format=fmt)
    return f"/media/aftersales/{customer_id}/{name}"
