"""Media files: a product image never reaches a file outside the media directory, a broken one never breaks
the share poster, and the image fields take only the shop's own media URLs."""

from __future__ import annotations

import io
from pathlib import Path

import httpx
import pytest
from PIL import Image, ImageChops
from sqlalchemy import update

from fissionmall.catalog.models import Product
from fissionmall.core.db import Database
from fissionmall.core.media import media_file
from fissionmall.distribution import poster
from fissionmall.settings import Settings
from tests.distribution.helpers import configure
from tests.helpers import admin, product, shopper

SECRET_COLOUR = (0, 255, 0)  # nothing else on a poster is pure green


def _png(path: Path, colour: tuple[int, int, int]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (64, 64), colour).save(path, format="PNG")
    return path


def _placeholder_area() -> Image.Image:
    img = Image.new("RGB", (poster.W, poster.H), "white")
    poster.draw_placeholder(img)
    return img.crop((0, 0, poster.W, poster.W))


async def _set_images(db: Database, product_id: int, images: list[str]) -> None:
    # Written past the API, as rows stored before the image check (or by a script) may hold them.
    async with db.tx() as s:
        await s.execute(update(Product).where(Product.id == product_id).values(images=images))


async def _poster(client: httpx.AsyncClient, dist: dict[str, str], product_id: int) -> Image.Image:
    r = await client.get("/api/v1/distribution/share", params={"product_id": product_id}, headers=dist)
    assert r.status_code == 200, r.text
    png = await client.get(r.json()["poster_png_url"])
    assert png.status_code == 200
    return Image.open(io.BytesIO(png.content)).convert("RGB")


def _has_colour(img: Image.Image, colour: tuple[int, int, int]) -> bool:
    colours = img.getcolors(maxcolors=img.width * img.height) or []
    return any(c == colour for _, c in colours)


@pytest.fixture
async def sharing(client: httpx.AsyncClient, db: Database) -> dict[str, object]:
    boss = await admin(client, db)
    await configure(client, boss)
    p = await product(client, boss, title="外部文件测试")
    dist = await shopper(client, "sharer")
    r = await client.post("/api/v1/distribution/apply", headers=dist)
    assert r.status_code == 200 and r.json()["status"] == "approved", r.text
    return {"boss": boss, "dist": dist, "product_id": p["id"]}


def _outside_cases(settings: Settings, tmp_path: Path) -> list[tuple[str, str]]:
    media = settings.media_dir
    outside = _png(tmp_path / "elsewhere" / "secret.png", SECRET_COLOUR)
    beside = _png(settings.var_dir / "secret.png", SECRET_COLOUR)  # media_dir/../secret.png
    link = media / "products" / "link.png"
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(outside)
    linked_dir = media / "escape"
    linked_dir.symlink_to(outside.parent, target_is_directory=True)
    return [
        ("absolute path", f"/media/{outside}"),  # /media//tmp/...: pathlib drops the base for an absolute part
        ("dot-dot", f"/media/../{beside.name}"),
        ("dot-dot inside", f"/media/products/../../{beside.name}"),
        ("symlink out of the media dir", "/media/products/link.png"),
        ("symlinked folder out of the media dir", "/media/escape/secret.png"),
    ]


async def test_the_poster_never_draws_a_file_outside_the_media_dir(client, db, settings, sharing, tmp_path):
    placeholder = _placeholder_area()
    for case, url in _outside_cases(settings, tmp_path):
        await _set_images(db, sharing["product_id"], [url])
        img = await _poster(client, sharing["dist"], sharing["product_id"])
        assert not _has_colour(img, SECRET_COLOUR), case
        assert ImageChops.difference(img.crop((0, 0, poster.W, poster.W)), placeholder).getbbox() is None, case


async def test_a_media_image_inside_the_dir_is_drawn(client, db, settings, sharing):
    # The control for the test above: a real media picture does reach the poster.
    _png(settings.media_dir / "products" / "green.png", SECRET_COLOUR)
    await _set_images(db, sharing["product_id"], ["/media/products/green.png"])
    img = await _poster(client, sharing["dist"], sharing["product_id"])
    assert img.getpixel((poster.W // 2, poster.W // 2)) == SECRET_COLOUR


@pytest.mark.parametrize(
    "content",
    [b"not an image at all", b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, b""],
    ids=["text", "truncated-png", "empty"],
)
async def test_a_broken_image_gets_the_placeholder_not_a_500(client, db, settings, sharing, content):
    path = settings.media_dir / "products" / "broken.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    await _set_images(db, sharing["product_id"], ["/media/products/broken.png"])
    img = await _poster(client, sharing["dist"], sharing["product_id"])
    assert ImageChops.difference(img.crop((0, 0, poster.W, poster.W)), _placeholder_area()).getbbox() is None


async def test_a_directory_named_as_an_image_gets_the_placeholder(client, db, settings, sharing):
    (settings.media_dir / "products" / "folder.png").mkdir(parents=True)
    await _set_images(db, sharing["product_id"], ["/media/products/folder.png"])
    img = await _poster(client, sharing["dist"], sharing["product_id"])
    assert ImageChops.difference(img.crop((0, 0, poster.W, poster.W)), _placeholder_area()).getbbox() is None


def test_media_file_resolves_only_inside_the_media_dir(settings, tmp_path):
    inside = _png(settings.media_dir / "products" / "ok.png", (1, 2, 3))
    assert media_file(settings.media_dir, "/media/products/ok.png") == inside.resolve()
    for case, url in _outside_cases(settings, tmp_path):
        assert media_file(settings.media_dir, url) is None, case
    assert media_file(settings.media_dir, "/media/products/missing.png") is None
    assert media_file(settings.media_dir, "https://cdn.example.com/products/ok.png") is None


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.example/pixel.png",
        "http://cdn.example.com/a.png",
        "//evil.example/a.png",
        "/media//etc/passwd",
        "/media/../var/secret.png",
        "/media/products/../../secret.png",
        "/media/.hidden.png",
        "/static/../media/x.png",
        "javascript:alert(1)",
        "/media/x.png\n",
        "",
    ],
)
async def test_image_fields_refuse_anything_but_the_shops_own_media(client, db, url):
    boss = await admin(client, db)
    body = {"title": "图片测试", "skus": [{"name": "默认", "price_fen": 100}], "images": [url]}
    r = await client.post("/api/admin/v1/products", json=body, headers=boss)
    assert r.status_code == 422, r.text
    p = await product(client, boss)
    r = await client.put(f"/api/admin/v1/products/{p['id']}", json={"images": [url]}, headers=boss)
    assert r.status_code == 422, r.text
    r = await client.get(f"/api/admin/v1/products/{p['id']}", headers=boss)
    assert r.json()["images"] == []


async def test_image_fields_take_the_shops_own_media_urls(client, db):
    boss = await admin(client, db)
    images = ["/media/products/demo-01.png", "/media/2026/12/a_b-c.v2.jpg"]
    body = {"title": "图片测试", "skus": [{"name": "默认", "price_fen": 100}], "images": images}
    r = await client.post("/api/admin/v1/products", json=body, headers=boss)
    assert r.status_code == 201, r.text
    assert r.json()["images"] == images


def test_the_demo_catalogue_images_are_accepted(tmp_path):
    # `make demo` loads its products through the same schema, with images it draws under /media/products/.
    from fissionmall.catalog.schemas import ProductCreate
    from fissionmall.demo.catalogue import PRODUCTS

    for i, p in enumerate(PRODUCTS, start=1):
        ProductCreate.model_validate({**p, "images": [f"/media/products/demo-{i:02d}.png"]})
