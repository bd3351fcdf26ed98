"""resolve_refs (what a product's images[] becomes), thumb_for, and the streamed read of an upload."""

from __future__ import annotations

import pytest

from fissionmall.core.errors import AppError
from fissionmall.media import service
from tests.helpers import admin
from tests.media.helpers import image_bytes


async def _asset(client, boss, size: tuple[int, int]) -> dict:
    r = await client.post(
        "/api/admin/v1/media", files={"file": ("a.jpg", image_bytes("JPEG", size), "image/jpeg")}, headers=boss
    )
    assert r.status_code == 201, r.text
    return r.json()


async def test_media_ids_become_their_web_urls_and_media_urls_pass_through(client, db) -> None:
    boss = await admin(client, db)
    a, b = await _asset(client, boss, (80, 80)), await _asset(client, boss, (90, 90))
    assert (await client.delete(f"/api/admin/v1/media/{b['id']}", headers=boss)).status_code == 204
    async with db.read() as s:
        urls = await service.resolve_refs(s, refs=[b["id"], "/media/products/old.png", str(a["id"]), a["url"]])
    # A hidden asset still resolves: hiding takes it out of the library, not out of products.
    assert urls == [b["url"], "/media/products/old.png", a["url"], a["url"]]
    async with db.read() as s:
        assert await service.resolve_refs(s, refs=[]) == []


@pytest.mark.parametrize(
    ("ref", "code", "status"),
    [
        (987654, "MEDIA_NOT_FOUND", 404),
        ("987654", "MEDIA_NOT_FOUND", 404),
        (0, "MEDIA_NOT_FOUND", 404),
        (2**70, "MEDIA_NOT_FOUND", 404),
        ("https://evil.example/pixel.gif", "MEDIA_REF_INVALID", 422),
        ("/media/../etc/passwd", "MEDIA_REF_INVALID", 422),
        ("", "MEDIA_REF_INVALID", 422),
    ],
)
async def test_an_unknown_id_or_a_foreign_url_is_refused(client, db, ref, code, status) -> None:
    async with db.read() as s:
        with pytest.raises(AppError) as caught:
            await service.resolve_refs(s, refs=[ref])
    assert caught.value.code == code and caught.value.status == status


async def test_thumb_for_names_the_thumbnail_of_a_library_copy(client, db) -> None:
    boss = await admin(client, db)
    a = await _asset(client, boss, (400, 400))
    assert service.thumb_for(a["url"]) == a["thumb_url"]
    assert service.thumb_for("/media/products/old.png") is None
    assert service.thumb_for(a["thumb_url"]) is None


class _Reader:
    def __init__(self, total: int) -> None:
        self.left = total
        self.read_bytes = 0

    async def read(self, size: int = -1) -> bytes:
        n = min(size, self.left)
        self.left -= n
        self.read_bytes += n
        return b"x" * n


async def test_an_upload_is_read_in_chunks_and_stopped_at_the_cap() -> None:
    reader = _Reader(30 * 1024 * 1024)
    with pytest.raises(AppError) as caught:
        await service.read_upload(reader, max_bytes=1024 * 1024)
    assert caught.value.code == "MEDIA_TOO_LARGE"
    assert reader.read_bytes <= 1024 * 1024 + service.CHUNK  # never the whole 30 MB
    assert await service.read_upload(_Reader(5000), max_bytes=5000) == b"x" * 5000


async def test_products_take_media_ids_and_store_their_urls(client, db) -> None:
    """API.md: products take images[] of media ids or URLs; the product keeps the URLs, in the order sent."""
    boss = await admin(client, db)
    a, b = await _asset(client, boss, (120, 80)), await _asset(client, boss, (80, 120))
    body = {
        "title": "素材库里的图",
        "skus": [{"name": "默认", "price_fen": 990, "stock": 3}],
        "images": [b["id"], a["url"]],
    }
    r = await client.post("/api/admin/v1/products", json=body, headers=boss)
    assert r.status_code == 201, r.text
    pid = r.json()["id"]
    assert r.json()["images"] == [b["url"], a["url"]]
    r = await client.put(f"/api/admin/v1/products/{pid}", json={"images": [a["id"]]}, headers=boss)
    assert r.status_code == 200, r.text
    assert r.json()["images"] == [a["url"]]
    assert (await client.get(f"/api/v1/products/{pid}")).json()["images"] == [a["url"]]
    # An id the library never had: refused, and the product keeps its images.
    r = await client.put(f"/api/admin/v1/products/{pid}", json={"images": [a["id"], 987654]}, headers=boss)
    assert (r.status_code, r.json()["error"]["code"]) == (404, "MEDIA_NOT_FOUND")
    assert (await client.get(f"/api/v1/products/{pid}")).json()["images"] == [a["url"]]
