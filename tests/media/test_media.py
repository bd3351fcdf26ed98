"""The media library's admin API: uploads checked by content, processed, stored once, listed, hidden."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image
from sqlalchemy import func, select

from fissionmall.core.db import Database
from fissionmall.media.models import MediaAsset
from fissionmall.settings import Settings
from tests.authz import check_admin_matrix
from tests.helpers import admin, shopper
from tests.media.helpers import GPS_IFD, bomb_png, image_bytes, jpeg_with_gps

ADMIN_ROUTES: list[tuple[str, str, dict[str, Any] | None, str, str]] = [
    ("POST", "/api/admin/v1/media", None, "catalog", "finance"),
    ("GET", "/api/admin/v1/media", None, "catalog.read", "store_staff"),
    ("DELETE", "/api/admin/v1/media/{media_id}", None, "catalog", "finance"),
]
URL = "/api/admin/v1/media"


async def _upload(
    client: httpx.AsyncClient, headers: dict[str, str], data: bytes, name: str = "a.jpg", ctype: str = "image/jpeg"
) -> httpx.Response:
    return await client.post(URL, files={"file": (name, data, ctype)}, headers=headers)


def _stored(settings: Settings, url: str) -> Image.Image:
    path = settings.media_dir / url.removeprefix("/media/")
    return Image.open(io.BytesIO(path.read_bytes()))


def _library_files(settings: Settings) -> list[Path]:
    root = settings.media_dir / "lib"
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


async def _rows(db: Database) -> int:
    async with db.read() as s:
        return int(await s.scalar(select(func.count()).select_from(MediaAsset)) or 0)


@pytest.fixture
async def boss(client: httpx.AsyncClient, db: Database) -> dict[str, str]:
    return await admin(client, db)


@pytest.mark.parametrize(
    ("fmt", "mime", "ext"),
    [("JPEG", "image/jpeg", "jpg"), ("PNG", "image/jpeg", "jpg"), ("WEBP", "image/webp", "webp")],
)
async def test_an_upload_makes_a_web_copy_and_a_thumbnail_of_the_right_size(
    client, boss, settings, fmt: str, mime: str, ext: str
) -> None:
    r = await _upload(client, boss, image_bytes(fmt, (2400, 1600)), name=f"商品图.{ext}")
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["mime"] == mime and (body["width"], body["height"]) == (1200, 800)
    assert body["url"].startswith("/media/lib/") and body["url"].endswith(f".{ext}")
    assert body["thumb_url"] == body["url"].removesuffix(f".{ext}") + f"_t.{ext}"
    web, thumb = _stored(settings, body["url"]), _stored(settings, body["thumb_url"])
    assert web.size == (1200, 800) and thumb.size == (360, 240)
    assert web.format == mime.split("/")[1].upper()
    assert body["bytes"] == (settings.media_dir / body["url"].removeprefix("/media/")).stat().st_size


async def test_a_png_with_transparency_stays_a_png(client, boss, settings) -> None:
    r = await _upload(client, boss, image_bytes("PNG", (800, 400), mode="RGBA", colour=(0, 0, 0, 0)), "logo.png")
    assert r.status_code == 201, r.text
    assert r.json()["mime"] == "image/png" and r.json()["width"] == 800  # smaller than 1200: not enlarged
    web = _stored(settings, r.json()["url"])
    assert web.format == "PNG" and web.mode == "RGBA" and web.getpixel((0, 0))[3] == 0


@pytest.mark.parametrize(
    ("name", "data", "ctype", "code", "status"),
    [
        ("fake.jpg", "这不是图片，只是一个文本文件。\n".encode() * 50, "image/jpeg", "MEDIA_NOT_IMAGE", 422),
        ("broken.png", image_bytes("PNG", (300, 300))[:200], "image/png", "MEDIA_NOT_IMAGE", 422),
        (
            "x.svg",
            b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
            "image/svg+xml",
            "MEDIA_TYPE_NOT_ALLOWED",
            415,
        ),
        (
            "plain.jpg",
            b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>',
            "image/jpeg",
            "MEDIA_TYPE_NOT_ALLOWED",
            415,
        ),
        ("a.gif", image_bytes("GIF", (50, 50)), "image/gif", "MEDIA_TYPE_NOT_ALLOWED", 415),
        ("a.bmp", image_bytes("BMP", (50, 50)), "image/bmp", "MEDIA_TYPE_NOT_ALLOWED", 415),
        ("empty.jpg", b"", "image/jpeg", "MEDIA_EMPTY", 422),
    ],
)
async def test_what_is_not_an_accepted_image_is_refused_and_leaves_nothing(
    client, boss, db, settings, name, data, ctype, code, status
) -> None:
    r = await _upload(client, boss, data, name, ctype)
    assert r.status_code == status, r.text
    assert r.json()["error"]["code"] == code
    assert any("\u4e00" <= ch <= "\u9fff" for ch in r.json()["error"]["message"])
    assert await _rows(db) == 0 and _library_files(settings) == []


async def test_a_decompression_bomb_is_refused_before_it_is_decoded(client, boss, db, settings) -> None:
    r = await _upload(client, boss, bomb_png(20000), "bomb.png", "image/png")
    assert r.status_code == 422, r.text
    assert r.json()["error"]["code"] == "MEDIA_TOO_MANY_PIXELS"
    assert await _rows(db) == 0 and _library_files(settings) == []


async def test_the_pixel_cap_is_a_setting(client, boss, db, settings) -> None:
    settings.media_max_pixels = 1000 * 1000
    r = await _upload(client, boss, image_bytes("PNG", (1100, 1000)), "big.png", "image/png")
    assert r.json()["error"]["code"] == "MEDIA_TOO_MANY_PIXELS"
    assert (await _upload(client, boss, image_bytes("PNG", (1000, 1000)), "ok.png", "image/png")).status_code == 201


async def test_a_30_mb_upload_is_refused_at_the_edge(client, boss, db, settings) -> None:
    r = await _upload(client, boss, b"\xff\xd8" + b"\0" * (30 * 1024 * 1024), "huge.jpg")
    assert r.status_code == 413 and r.json()["error"]["code"] == "MEDIA_TOO_LARGE"
    assert await _rows(db) == 0 and _library_files(settings) == []


async def test_a_file_just_over_the_cap_is_refused_by_the_route(client, boss, db, settings) -> None:
    # Under the edge's allowance (the cap plus the multipart envelope), so the route's own count refuses it.
    r = await _upload(client, boss, b"\xff\xd8" + b"\0" * settings.media_max_bytes, "big.jpg")
    assert r.status_code == 413 and r.json()["error"]["code"] == "MEDIA_TOO_LARGE"
    assert "10 MB" in r.json()["error"]["message"]
    assert await _rows(db) == 0 and _library_files(settings) == []


async def test_the_edge_cap_follows_the_setting(client, boss, settings) -> None:
    settings.media_max_bytes = 100 * 1024
    r = await _upload(client, boss, b"\0" * (300 * 1024), "big.jpg")
    assert r.status_code == 413 and r.json()["error"]["code"] == "MEDIA_TOO_LARGE"
    assert r.json()["error"]["limit"] == 100 * 1024 + 64 * 1024
    # Other routes keep the 1 MB API limit.
    r = await client.post("/api/admin/v1/products", content=b"{" + b" " * (2 * 1024 * 1024) + b"}", headers=boss)
    assert r.status_code == 413 and r.json()["error"]["code"] == "PAYLOAD_TOO_LARGE"


async def test_gps_and_other_exif_are_gone_and_the_orientation_is_applied(client, boss, settings) -> None:
    original = jpeg_with_gps((1600, 1200), orientation=6)  # "rotate 90°": stands 1200 × 1600
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(GPS_IFD)  # the test file really has GPS
    r = await _upload(client, boss, original, "IMG_0001.JPG")
    assert r.status_code == 201, r.text
    assert (r.json()["width"], r.json()["height"]) == (900, 1200)
    for url in (r.json()["url"], r.json()["thumb_url"]):
        stored = _stored(settings, url)
        assert dict(stored.getexif()) == {} and not stored.getexif().get_ifd(GPS_IFD)
        assert "exif" not in stored.info and "xmp" not in stored.info
        raw = (settings.media_dir / url.removeprefix("/media/")).read_bytes()
        assert b"TestCam" not in raw and b"Exif\0\0" not in raw


async def test_the_same_content_twice_is_one_asset(client, boss, db, settings) -> None:
    data = image_bytes("JPEG", (500, 500))
    first = await _upload(client, boss, data, "a.jpg")
    again = await _upload(client, boss, data, "b.jpg")
    assert first.status_code == again.status_code == 201
    assert again.json()["id"] == first.json()["id"] and again.json()["url"] == first.json()["url"]
    assert await _rows(db) == 1 and len(_library_files(settings)) == 2


async def test_the_same_content_uploaded_at_once_is_still_one_asset(client, boss, db, settings) -> None:
    data = image_bytes("PNG", (640, 480), colour=(1, 2, 3))
    answers = await asyncio.gather(*(_upload(client, boss, data, f"{i}.png", "image/png") for i in range(4)))
    assert {r.status_code for r in answers} == {201}
    assert len({r.json()["id"] for r in answers}) == 1
    assert await _rows(db) == 1 and len(_library_files(settings)) == 2


async def test_the_library_lists_newest_first_in_pages_and_hiding_keeps_the_file(client, boss, settings) -> None:
    ids = []
    for i in range(3):
        r = await _upload(client, boss, image_bytes("JPEG", (100 + i, 100)), f"{i}.jpg")
        ids.append(r.json()["id"])
    page = (await client.get(URL, params={"limit": 2}, headers=boss)).json()
    assert [a["id"] for a in page["items"]] == [ids[2], ids[1]] and page["next_cursor"]
    rest = (await client.get(URL, params={"limit": 2, "cursor": page["next_cursor"]}, headers=boss)).json()
    assert [a["id"] for a in rest["items"]] == [ids[0]] and rest["next_cursor"] is None
    hidden = page["items"][0]
    assert (await client.delete(f"{URL}/{hidden['id']}", headers=boss)).status_code == 204
    listed = (await client.get(URL, headers=boss)).json()["items"]
    assert [a["id"] for a in listed] == [ids[1], ids[0]]
    assert (await client.get(hidden["url"])).status_code == 200  # a product showing it keeps working
    assert (await client.delete(f"{URL}/999999", headers=boss)).json()["error"]["code"] == "MEDIA_NOT_FOUND"
    # Uploading it again brings it back, as the same asset.
    again = await _upload(client, boss, image_bytes("JPEG", (102, 100)), "again.jpg")
    assert again.json()["id"] == hidden["id"]
    assert (await client.get(URL, headers=boss)).json()["items"][0]["id"] == hidden["id"]


async def test_the_file_name_is_kept_for_display_only_and_cleaned(client, boss) -> None:
    r = await _upload(client, boss, image_bytes("JPEG", (50, 50)), "../../etc/主图<img src=x onerror=alert(1)>.jpg")
    assert r.status_code == 201
    name = r.json()["original_name"]
    assert name.startswith("主图") and name.endswith(".jpg") and "/" not in name and "<" not in name


async def test_served_library_files_are_cached_for_a_year_and_never_sniffed(client, boss, settings) -> None:
    r = await _upload(client, boss, image_bytes("WEBP", (300, 300)), "a.webp", "image/webp")
    served = await client.get(r.json()["url"])
    assert served.status_code == 200 and served.headers["content-type"] == "image/webp"
    assert served.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert served.headers["x-content-type-options"] == "nosniff"
    other = settings.media_dir / "products" / "old.png"
    other.parent.mkdir(parents=True, exist_ok=True)
    other.write_bytes(image_bytes("PNG", (10, 10)))
    served = await client.get("/media/products/old.png")
    assert served.status_code == 200 and served.headers["cache-control"] == "public, max-age=3600"
    assert (await client.get("/media/lib/00/missing.jpg")).status_code == 404


async def test_only_staff_with_the_catalogue_permission_reach_the_library(client, db, boss) -> None:
    r = await _upload(client, boss, image_bytes("JPEG", (60, 60)), "a.jpg")
    ids = {"media_id": r.json()["id"]}
    alice = await shopper(client, "alice")
    await check_admin_matrix(client, db, ADMIN_ROUTES, ids, alice)
    # A multipart upload without a token or with a shopper's is refused too, and stores nothing.
    data = image_bytes("JPEG", (61, 61))
    assert (await _upload(client, {}, data)).status_code == 401
    assert (await _upload(client, alice, data)).status_code == 401
    finance = await admin(client, db, "finance", username="fin2")
    assert (await _upload(client, finance, data)).json()["error"]["code"] == "PERMISSION_DENIED"
    staff = await admin(client, db, "store_staff", username="staff2")
    assert (await client.get(URL, headers=staff)).status_code == 403
    assert await _rows(db) == 1
    assert (await client.get(URL, headers=boss)).json()["items"][0]["id"] == ids["media_id"]


@pytest.mark.parametrize(
    ("mode", "fmt", "mime"),
    [
        ("CMYK", "JPEG", "image/jpeg"),
        ("I;16", "PNG", "image/jpeg"),
        ("L", "PNG", "image/jpeg"),
        ("LA", "PNG", "image/png"),
    ],
)
async def test_less_common_colour_modes_are_stored_too(client, boss, settings, mode: str, fmt: str, mime: str) -> None:
    r = await _upload(client, boss, image_bytes(fmt, (400, 300), mode=mode, colour=0), f"m.{fmt.lower()}")
    assert r.status_code == 201, r.text
    assert r.json()["mime"] == mime and (r.json()["width"], r.json()["height"]) == (400, 300)
    assert _stored(settings, r.json()["thumb_url"]).size == (360, 270)
