"""首页轮播图 over HTTP: the admin CRUD and its authorization, refusals with codes and nothing changed,
at most 10 active, the order (move up/down), and the shop's public list (active, in window, in order)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from fissionmall.banners.models import Banner
from fissionmall.core import clock
from fissionmall.core.db import Database
from tests.authz import check_admin_matrix
from tests.helpers import admin, product, shopper
from tests.media.helpers import image_bytes

API = "/api/admin/v1/banners"
SHOP = "/api/v1/banners"

ADMIN_ROUTES: list[tuple[str, str, dict[str, Any] | None, str, str]] = [
    ("GET", API, None, "catalog.read", "store_staff"),
    ("POST", API, {"image": 1, "title": "x"}, "catalog", "finance"),
    ("GET", API + "/{banner_id}", None, "catalog.read", "store_staff"),
    ("PUT", API + "/{banner_id}", {"title": "改名"}, "catalog", "finance"),
    ("POST", API + "/{banner_id}/move", {"direction": "up"}, "catalog", "finance"),
    ("DELETE", API + "/{banner_id}", None, "catalog", "finance"),
]


@pytest.fixture
async def owner(client: httpx.AsyncClient, db: Database) -> dict[str, str]:
    return await admin(client, db)


@pytest.fixture
async def image(client: httpx.AsyncClient, owner: dict[str, str]) -> dict[str, Any]:
    files = {"file": ("b.png", image_bytes("PNG", (750, 300)), "image/png")}
    r = await client.post("/api/admin/v1/media", files=files, headers=owner)
    assert r.status_code == 201, r.text
    return r.json()


async def make(client: httpx.AsyncClient, owner: dict[str, str], image: dict[str, Any], **over: Any) -> dict[str, Any]:
    r = await client.post(API, json={"image": image["id"], "title": "新人礼包", **over}, headers=owner)
    assert r.status_code == 201, r.text
    return r.json()


async def count(db: Database) -> int:
    async with db.read() as s:
        return int(await s.scalar(select(func.count()).select_from(Banner)) or 0)


async def shop(client: httpx.AsyncClient) -> list[dict[str, Any]]:
    r = await client.get(SHOP)
    assert r.status_code == 200, r.text
    assert r.headers["cache-control"].startswith("public, max-age=")
    return r.json()["items"]


async def test_authorization_matrix_and_nothing_changes(client, db, owner, image):
    b = await make(client, owner, image)
    await check_admin_matrix(client, db, ADMIN_ROUTES, {"banner_id": b["id"]}, await shopper(client))
    assert await count(db) == 1
    operator = await admin(client, db, "operator")  # catalog staff edit banners
    assert (await client.put(f"{API}/{b['id']}", json={"title": "运营改"}, headers=operator)).status_code == 200
    finance = await admin(client, db, "finance")  # catalog.read may look
    assert (await client.get(API, headers=finance)).status_code == 200


async def test_create_edit_and_delete_a_banner_linking_to_a_product(client, db, owner, image):
    p = await product(client, owner, title="秒杀爆款")
    b = await make(client, owner, image, link_kind="product", product_id=p["id"])
    assert b["image_url"] == image["url"] and b["thumb_url"] == image["thumb_url"]
    assert (b["link"], b["product_title"], b["active"], b["live"]) == (f"#/p/{p['id']}", "秒杀爆款", True, True)
    r = await client.put(f"{API}/{b['id']}", json={"title": "领券", "link_kind": "coupons"}, headers=owner)
    assert r.status_code == 200, r.text
    assert (r.json()["title"], r.json()["link"], r.json()["product_id"]) == ("领券", "#/coupons", None)
    assert await shop(client) == [{"id": b["id"], "image_url": image["url"], "title": "领券", "link": "#/coupons"}]
    assert (await client.delete(f"{API}/{b['id']}", headers=owner)).status_code == 204
    assert await count(db) == 0 and await shop(client) == []
    r = await client.get(f"{API}/{b['id']}", headers=owner)
    assert r.status_code == 404 and r.json()["error"]["code"] == "BANNER_NOT_FOUND"


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"image": None}, 422, "VALIDATION_ERROR"),  # no image
        ({"image": "https://evil.example/a.png", "title": "x"}, 422, "VALIDATION_ERROR"),
        ({"image": "/media/../etc/passwd", "title": "x"}, 422, "VALIDATION_ERROR"),
        ({"image": 987654, "title": "x"}, 404, "MEDIA_NOT_FOUND"),
        ({"title": "x" * 41}, 422, "VALIDATION_ERROR"),
        ({"title": "  "}, 422, "VALIDATION_ERROR"),
        ({"link_kind": "product"}, 422, "BANNER_PRODUCT_REQUIRED"),
        ({"link_kind": "product", "product_id": 987654}, 404, "BANNER_PRODUCT_NOT_FOUND"),
        ({"link_kind": "website"}, 422, "VALIDATION_ERROR"),
        (
            {"starts_at": "2026-12-05T10:00:00+08:00", "ends_at": "2026-12-05T09:00:00+08:00"},
            422,
            "BANNER_WINDOW_INVALID",
        ),
        ({"starts_at": "2026-12-05T10:00:00"}, 422, "VALIDATION_ERROR"),  # no offset
    ],
)
async def test_bad_input_is_refused_with_a_code_and_nothing_is_created(client, db, owner, image, body, status, code):
    r = await client.post(API, json={"image": image["id"], "title": "x", **body}, headers=owner)
    assert r.status_code == status and r.json()["error"]["code"] == code, r.text
    assert await count(db) == 0


async def test_a_bad_edit_is_refused_and_the_banner_stays(client, db, owner, image):
    b = await make(client, owner, image, link_kind="coupons")
    r = await client.put(f"{API}/{b['id']}", json={"link_kind": "product"}, headers=owner)
    assert r.status_code == 422 and r.json()["error"]["code"] == "BANNER_PRODUCT_REQUIRED"
    r = await client.put(f"{API}/{b['id']}", json={"title": None}, headers=owner)
    assert r.status_code == 422
    r = await client.post(f"{API}/{b['id']}/move", json={"direction": "sideways"}, headers=owner)
    assert r.status_code == 422
    r = await client.get(f"{API}/{b['id']}", headers=owner)
    assert (r.json()["title"], r.json()["link"]) == ("新人礼包", "#/coupons")


async def test_at_most_ten_banners_are_active(client, db, owner, image):
    made = [await make(client, owner, image, title=f"图{i}") for i in range(10)]
    r = await client.post(API, json={"image": image["id"], "title": "第十一张"}, headers=owner)
    assert r.status_code == 409 and r.json()["error"]["code"] == "BANNER_LIMIT_REACHED"
    assert await count(db) == 10
    off = await make(client, owner, image, title="停用的", active=False)  # an inactive one may wait
    r = await client.put(f"{API}/{off['id']}", json={"active": True}, headers=owner)
    assert r.status_code == 409 and r.json()["error"]["code"] == "BANNER_LIMIT_REACHED"
    assert (await client.put(f"{API}/{made[0]['id']}", json={"active": False}, headers=owner)).status_code == 200
    assert (await client.put(f"{API}/{off['id']}", json={"active": True}, headers=owner)).status_code == 200
    assert [b["title"] for b in await shop(client)] == [f"图{i}" for i in range(1, 10)] + ["停用的"]


async def test_the_shop_shows_active_banners_inside_their_window_in_order(client, db, owner, image):
    now = datetime.now(UTC)
    a = await make(client, owner, image, title="A")
    b = await make(client, owner, image, title="B", ends_at=(now + timedelta(hours=1)).isoformat())
    await make(client, owner, image, title="later", starts_at=(now + timedelta(hours=2)).isoformat())
    await make(client, owner, image, title="ended", ends_at=(now - timedelta(minutes=1)).isoformat())
    await make(client, owner, image, title="off", active=False)
    assert [x["title"] for x in await shop(client)] == ["A", "B"]
    r = await client.post(f"{API}/{b['id']}/move", json={"direction": "up"}, headers=owner)
    assert r.status_code == 200 and [x["title"] for x in r.json()] == ["B", "A", "later", "ended", "off"]
    r = await client.post(f"{API}/{b['id']}/move", json={"direction": "up"}, headers=owner)  # already first
    assert [x["title"] for x in r.json()][:2] == ["B", "A"]
    assert [x["title"] for x in await shop(client)] == ["B", "A"]
    await client.post(f"{API}/{a['id']}/move", json={"direction": "down"}, headers=owner)
    clock.set_offset(3 * 3600)  # B has ended, "later" has begun
    try:
        assert [x["title"] for x in await shop(client)] == ["later", "A"]
    finally:
        clock.reset()


async def test_concurrent_activations_cannot_pass_the_limit_together(client, db, owner, image):
    for i in range(8):
        await make(client, owner, image, title=f"图{i}")
    got = await asyncio.gather(
        *(client.post(API, json={"image": image["id"], "title": f"并发{i}"}, headers=owner) for i in range(4))
    )
    assert sorted(r.status_code for r in got) == [201, 201, 409, 409], [r.text for r in got]
    async with db.read() as s:
        assert await s.scalar(select(func.count()).select_from(Banner).where(Banner.active.is_(True))) == 10
