"""A shopper's photo (POST /api/v1/me/uploads, after-sales evidence): a phone-sized picture gets through the
body cap, its location is gone, it is the shopper's own file and never in the merchant's library."""

from __future__ import annotations

import io
import os

from PIL import Image
from sqlalchemy import func, select

from fissionmall.media.models import MediaAsset
from tests.helpers import shopper
from tests.media.helpers import GPS_IFD, jpeg_with_gps

URL = "/api/v1/me/uploads"


def _noisy_jpeg(megabytes: float) -> bytes:
    """A JPEG of random pixels (incompressible) of about `megabytes`, as a phone camera's photo is."""
    side = 1000
    while True:
        data = io.BytesIO()
        Image.frombytes("RGB", (side, side), os.urandom(side * side * 3)).save(data, "JPEG", quality=95)
        if len(data.getvalue()) >= megabytes * 1024 * 1024:
            return data.getvalue()
        side += 300


async def test_a_phone_sized_photo_is_taken_stripped_and_kept_out_of_the_library(client, db, settings) -> None:
    me = await shopper(client)
    big = _noisy_jpeg(2.5)  # over the API's usual 1 MB body cap: the upload route has its own
    r = await client.post(URL, files={"file": ("IMG_0001.jpg", big, "image/jpeg")}, headers=me)
    assert r.status_code == 201, r.text
    url = r.json()["url"]
    me_id = (await client.get("/api/v1/me", headers=me)).json()["id"]
    assert url.startswith(f"/media/aftersales/{me_id}/")
    assert (settings.media_dir / url.removeprefix("/media/")).is_file()

    r = await client.post(URL, files={"file": ("gps.jpg", jpeg_with_gps(), "image/jpeg")}, headers=me)
    assert r.status_code == 201, r.text
    with Image.open(settings.media_dir / r.json()["url"].removeprefix("/media/")) as stored:
        assert GPS_IFD not in stored.getexif()
    async with db.read() as s:
        assert await s.scalar(select(func.count()).select_from(MediaAsset)) == 0


async def test_photos_are_refused_without_a_shopper_over_5_mb_or_when_not_images(client) -> None:
    me = await shopper(client)
    jpeg = jpeg_with_gps()
    assert (await client.post(URL, files={"file": ("a.jpg", jpeg, "image/jpeg")})).status_code == 401
    r = await client.post(URL, files={"file": ("a.jpg", _noisy_jpeg(5.2), "image/jpeg")}, headers=me)
    assert (r.status_code, r.json()["error"]["code"]) == (413, "MEDIA_TOO_LARGE")
    r = await client.post(URL, files={"file": ("a.jpg", b"not a picture at all", "image/jpeg")}, headers=me)
    assert (r.status_code, r.json()["error"]["code"]) == (422, "MEDIA_NOT_IMAGE")
