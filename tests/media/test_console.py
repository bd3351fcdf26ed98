"""The 素材库 console page and the JSON routes the gallery widget calls (console login, CSRF, permissions)."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import func, select

from fissionmall.core.db import Database
from fissionmall.media.models import MediaAsset
from tests.console_helpers import console
from tests.media.helpers import image_bytes


async def _count(db: Database) -> int:
    async with db.read() as s:
        return int(await s.scalar(select(func.count()).select_from(MediaAsset)) or 0)


async def _upload(client: httpx.AsyncClient, csrf: str, data: bytes, name: str = "a.png") -> httpx.Response:
    return await client.post(
        "/admin/media/upload", files={"file": (name, data, "image/png")}, headers={"X-CSRF-Token": csrf}
    )


async def test_the_console_uploads_lists_and_deletes(client: httpx.AsyncClient, db: Database) -> None:
    csrf = await console(client, db, "operator")
    page = await client.get("/admin/media")
    assert page.status_code == 200 and "素材库还没有图片" in page.text and "data-media-uploader" in page.text
    assert 'href="/admin/media"' in page.text  # in the sidebar
    r = await _upload(client, csrf, image_bytes("PNG", (2000, 1000)), "横幅.png")
    assert r.status_code == 201, r.text
    asset = r.json()
    assert (asset["width"], asset["height"]) == (1200, 600) and asset["original_name"] == "横幅.png"
    page = await client.get("/admin/media")
    assert asset["thumb_url"] in page.text and "1200×600" in page.text
    listed = (await client.get("/admin/media/library.json")).json()
    assert [a["id"] for a in listed["items"]] == [asset["id"]] and listed["next_cursor"] is None

    bad = await _upload(client, csrf, b"not an image at all", "x.png")
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "MEDIA_NOT_IMAGE"
    assert "图片" in bad.json()["error"]["message"]

    gone = await client.post(f"/admin/media/{asset['id']}/delete", data={"csrf_token": csrf})
    assert gone.status_code == 303
    assert (await client.get("/admin/media/library.json")).json()["items"] == []
    assert await _count(db) == 1  # hidden, not deleted


async def test_a_console_upload_needs_the_csrf_token_and_the_permission(client, db) -> None:
    await console(client, db, "operator")
    r = await client.post("/admin/media/upload", files={"file": ("a.png", image_bytes("PNG", (20, 20)), "image/png")})
    assert r.status_code == 403 and "CSRF" in r.text
    csrf = await console(client, db, "finance")  # may not edit products
    r = await _upload(client, csrf, image_bytes("PNG", (20, 20)))
    assert r.status_code == 403 and "没有权限" in r.text
    assert (await client.get("/admin/media")).status_code == 200  # finance may look (catalog.read)
    assert await _count(db) == 0


async def test_a_large_console_upload_is_refused_with_the_media_code(client, db, settings) -> None:
    csrf = await console(client, db, "operator")
    r = await _upload(client, csrf, b"\0" * (settings.media_max_bytes + 200 * 1024))
    assert r.status_code == 413 and r.json()["error"]["code"] == "MEDIA_TOO_LARGE"
    assert await _count(db) == 0


async def test_the_widget_form_submits_its_images_in_order_without_javascript(client, db) -> None:
    csrf = await console(client, db, "operator")
    asset = (await _upload(client, csrf, image_bytes("PNG", (30, 30)))).json()
    r = await client.post(
        "/admin/media/try",
        data={"csrf_token": csrf, "images": ["/media/products/a.png", str(asset["id"])]},
    )
    assert r.status_code == 200
    assert r.text.index("/media/products/a.png") < r.text.index(asset["url"])
    # The form comes back with the images as the widget's hidden inputs.
    assert f'<input type="hidden" name="images" value="{asset["url"]}">' in r.text
    r = await client.post("/admin/media/try", data={"csrf_token": csrf, "images": ["https://x.example/a.png"]})
    assert r.status_code == 422 and "素材库" in r.text


@pytest.mark.parametrize("path", ["/admin/media", "/admin/media/library.json", "/admin/media/try"])
async def test_console_media_pages_need_a_login(client, path: str) -> None:
    r = await client.get(path)
    assert r.status_code == 303 and r.headers["location"].startswith("/admin/login")
