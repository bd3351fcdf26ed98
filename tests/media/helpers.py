"""Images built in memory for the media tests."""

from __future__ import annotations

import io

from PIL import Image

GPS_IFD = 0x8825


def image_bytes(
    fmt: str, size: tuple[int, int] = (2400, 1600), *, mode: str = "RGB", colour: object = (200, 30, 30)
) -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, colour).save(out, fmt)  # type: ignore[arg-type]
    return out.getvalue()


def jpeg_with_gps(size: tuple[int, int] = (1600, 1200), orientation: int = 1) -> bytes:
    img = Image.new("RGB", size, (20, 120, 200))
    exif = Image.Exif()
    exif[0x010F] = "TestCam"  # Make
    exif[0x0112] = orientation
    exif[GPS_IFD] = {1: "N", 2: (31.0, 14.0, 0.0), 3: "E", 4: (121.0, 28.0, 0.0)}
    out = io.BytesIO()
    img.save(out, "JPEG", exif=exif)
    return out.getvalue()


def bomb_png(side: int = 20000) -> bytes:
    """A small file that decodes to side × side pixels (a 1-bit PNG compresses to almost nothing)."""
    out = io.BytesIO()
    Image.new("1", (side, side), 0).save(out, "PNG", optimize=True)
    return out.getvalue()
