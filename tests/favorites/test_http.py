"""收藏 and 足迹: idempotent favourites (one row however many concurrent PUTs), the cap, off-shelf products
shown as such, unknown products refused, views upserted one row per product and trimmed to the latest
MAX_HISTORY, delete one / clear all, and another shopper never seeing or touching mine."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from fissionmall.core import clock
from fissionmall.favorites import service
from fissionmall.favorites.models import Favorite, ProductView
from tests.helpers import admin, product, shopper

FAV = "/api/v1/me/favorites"
HIST = "/api/v1/me/history"


async def rows(db, model) -> int:
    async with db.read() as s:
        return int(await s.scalar(select(func.count()).select_from(model)) or 0)


@pytest.fixture
async def shop(client, db):
    owner = await admin(client, db)
    ps = [await product(client, owner, title=f"商品{i}", prices=(1000 + i, 990 + i)) for i in range(4)]
    return {"owner": owner, "products": ps}


async def test_favourite_list_and_unfavourite(client, db, shop):
    me = await shopper(client)
    a, b = shop["products"][:2]
    r = await client.put(f"{FAV}/{a['id']}", headers=me)
    assert r.status_code == 200 and r.json()["favorited"] is True and r.json()["product_id"] == a["id"], r.text
    again = await client.put(f"{FAV}/{a['id']}", headers=me)
    assert again.status_code == 200 and again.json()["created_at"] == r.json()["created_at"]  # the same row
    assert (await client.put(f"{FAV}/{b['id']}", headers=me)).status_code == 200
    assert await rows(db, Favorite) == 2

    page = (await client.get(FAV, headers=me)).json()
    assert [x["product_id"] for x in page["items"]] == [b["id"], a["id"]]  # newest first
    first = page["items"][0]
    assert first["title"] == "商品1" and first["price_fen"] == 991 and first["on_shelf"] is True
    assert page["total"] == 2 and page["limit"] == service.MAX_FAVORITES == 500

    r = await client.get(f"{FAV}/contains", params={"ids": f"{a['id']},{b['id']},999999"}, headers=me)
    assert r.json() == {"ids": sorted([a["id"], b["id"]])}

    assert (await client.delete(f"{FAV}/{a['id']}", headers=me)).status_code == 204
    assert (await client.delete(f"{FAV}/{a['id']}", headers=me)).status_code == 204  # idempotent
    assert [x["product_id"] for x in (await client.get(FAV, headers=me)).json()["items"]] == [b["id"]]


async def test_favourites_page_with_a_cursor(client, shop):
    me = await shopper(client)
    for p in shop["products"]:
        await client.put(f"{FAV}/{p['id']}", headers=me)
    one = (await client.get(FAV, params={"limit": 3}, headers=me)).json()
    two = (await client.get(FAV, params={"limit": 3, "cursor": one["next_cursor"]}, headers=me)).json()
    ids = [x["product_id"] for x in one["items"] + two["items"]]
    assert ids == [p["id"] for p in reversed(shop["products"])] and two["next_cursor"] is None


async def test_concurrent_puts_make_one_row(client, db, shop):
    me = await shopper(client)
    pid = shop["products"][0]["id"]
    rs = await asyncio.gather(*(client.put(f"{FAV}/{pid}", headers=me) for _ in range(12)))
    assert [r.status_code for r in rs] == [200] * 12, [r.text for r in rs if r.status_code != 200]
    assert await rows(db, Favorite) == 1


async def test_the_cap_refuses_a_new_favourite_but_not_a_repeat(client, db, shop, monkeypatch):
    monkeypatch.setattr(service, "MAX_FAVORITES", 2)
    me = await shopper(client)
    a, b, c, d = shop["products"]
    rs = await asyncio.gather(*(client.put(f"{FAV}/{p['id']}", headers=me) for p in (a, b, c, d)))
    assert sorted(r.status_code for r in rs) == [200, 200, 409, 409]  # concurrent: the count holds
    full = next(r for r in rs if r.status_code == 409)
    assert full.json()["error"]["code"] == "FAVORITES_FULL" and "最多 2 个" in full.json()["error"]["message"]
    assert await rows(db, Favorite) == 2
    kept = next(p for p, r in zip((a, b, c, d), rs, strict=True) if r.status_code == 200)
    assert (await client.put(f"{FAV}/{kept['id']}", headers=me)).status_code == 200  # a repeat is no new row


async def test_unknown_and_off_shelf_products(client, db, shop):
    me = await shopper(client)
    r = await client.put(f"{FAV}/999999", headers=me)
    assert r.status_code == 404 and r.json()["error"]["code"] == "PRODUCT_NOT_FOUND"
    r = await client.put(f"{HIST}/999999", headers=me)
    assert r.status_code == 404 and r.json()["error"]["code"] == "PRODUCT_NOT_FOUND"
    assert await rows(db, Favorite) == 0 and await rows(db, ProductView) == 0

    p = shop["products"][0]
    await client.put(f"{FAV}/{p['id']}", headers=me)
    await client.put(f"{HIST}/{p['id']}", headers=me)
    r = await client.put(f"/api/admin/v1/products/{p['id']}", json={"status": "off_sale"}, headers=shop["owner"])
    assert r.status_code == 200, r.text
    fav = (await client.get(FAV, headers=me)).json()["items"]
    assert [(x["product_id"], x["on_shelf"]) for x in fav] == [(p["id"], False)]  # 已下架, still listed
    assert (await client.get(HIST, headers=me)).json()["items"][0]["on_shelf"] is False
    r = await client.put(f"{FAV}/{p['id']}", headers=me)  # an off-shelf product cannot be added anew
    assert r.status_code == 404
    await client.delete(f"/api/admin/v1/products/{p['id']}", headers=shop["owner"])
    assert (await client.get(FAV, headers=me)).json()["items"][0]["on_shelf"] is False


async def test_history_is_one_row_per_product_with_the_last_view(client, db, shop):
    me = await shopper(client)
    a, b = shop["products"][:2]
    first = (await client.put(f"{HIST}/{a['id']}", headers=me)).json()
    clock.advance(60)
    await client.put(f"{HIST}/{b['id']}", headers=me)
    clock.advance(60)
    last = (await client.put(f"{HIST}/{a['id']}", headers=me)).json()
    assert last["viewed_at"] > first["viewed_at"]
    assert await rows(db, ProductView) == 2
    items = (await client.get(HIST, headers=me)).json()["items"]
    assert [x["product_id"] for x in items] == [a["id"], b["id"]]
    assert items[0]["viewed_at"] == last["viewed_at"] and items[0]["title"] == "商品0"

    rs = await asyncio.gather(*(client.put(f"{HIST}/{b['id']}", headers=me) for _ in range(8)))
    assert {r.status_code for r in rs} == {200}
    assert await rows(db, ProductView) == 2  # concurrent views of one product: still one row


async def test_history_keeps_the_latest_views_only(client, db, shop, monkeypatch):
    assert service.MAX_HISTORY == 100
    monkeypatch.setattr(service, "MAX_HISTORY", 3)
    me, other = await shopper(client, "me"), await shopper(client, "other")
    ps = shop["products"]
    await client.put(f"{HIST}/{ps[0]['id']}", headers=other)
    for p in ps:
        clock.advance(1)
        assert (await client.put(f"{HIST}/{p['id']}", headers=me)).status_code == 200
    items = (await client.get(HIST, headers=me)).json()["items"]
    assert [x["product_id"] for x in items] == [p["id"] for p in reversed(ps[1:])]  # the oldest trimmed
    assert await rows(db, ProductView) == 4  # 3 of mine + the other shopper's, untouched by my trim
    clock.advance(1)
    await client.put(f"{HIST}/{ps[1]['id']}", headers=me)  # seen again: back on top, nothing trimmed
    items = (await client.get(HIST, headers=me)).json()["items"]
    assert [x["product_id"] for x in items] == [ps[1]["id"], ps[3]["id"], ps[2]["id"]]


async def test_history_pages_and_deletes(client, shop):
    me = await shopper(client)
    for p in shop["products"]:
        clock.advance(1)
        await client.put(f"{HIST}/{p['id']}", headers=me)
    one = (await client.get(HIST, params={"limit": 3}, headers=me)).json()
    two = (await client.get(HIST, params={"limit": 3, "cursor": one["next_cursor"]}, headers=me)).json()
    ids = [x["product_id"] for x in one["items"] + two["items"]]
    assert ids == [p["id"] for p in reversed(shop["products"])] and two["next_cursor"] is None

    gone = shop["products"][2]["id"]
    assert (await client.delete(f"{HIST}/{gone}", headers=me)).status_code == 204
    assert gone not in [x["product_id"] for x in (await client.get(HIST, headers=me)).json()["items"]]
    assert (await client.delete(HIST, headers=me)).status_code == 204
    assert (await client.get(HIST, headers=me)).json()["items"] == []


async def test_another_shopper_never_sees_or_changes_mine(client, db, shop):
    me, other = await shopper(client, "me"), await shopper(client, "other")
    p = shop["products"][0]
    await client.put(f"{FAV}/{p['id']}", headers=me)
    await client.put(f"{HIST}/{p['id']}", headers=me)
    assert (await client.get(FAV, headers=other)).json()["items"] == []
    assert (await client.get(HIST, headers=other)).json()["items"] == []
    assert (await client.get(f"{FAV}/contains", params={"ids": str(p["id"])}, headers=other)).json() == {"ids": []}
    await client.delete(f"{FAV}/{p['id']}", headers=other)
    await client.delete(f"{HIST}/{p['id']}", headers=other)
    await client.delete(HIST, headers=other)
    assert await rows(db, Favorite) == 1 and await rows(db, ProductView) == 1

    for method, url in [
        ("GET", FAV),
        ("PUT", f"{FAV}/{p['id']}"),
        ("DELETE", f"{FAV}/{p['id']}"),
        ("GET", f"{FAV}/contains?ids=1"),
        ("GET", HIST),
        ("PUT", f"{HIST}/{p['id']}"),
        ("DELETE", f"{HIST}/{p['id']}"),
        ("DELETE", HIST),
    ]:
        r = await client.request(method, url)
        assert r.status_code == 401, (method, url, r.text)
    assert await rows(db, Favorite) == 1 and await rows(db, ProductView) == 1


@pytest.mark.parametrize(
    ("url", "code"),
    [
        (f"{FAV}/contains?ids=", "VALIDATION_ERROR"),
        (f"{FAV}/contains?ids=1,,2", "VALIDATION_ERROR"),
        (f"{FAV}/contains?ids=abc", "VALIDATION_ERROR"),
        (f"{FAV}/contains?ids=" + ",".join(str(i) for i in range(1, 102)), "VALIDATION_ERROR"),
        (f"{FAV}?cursor=abc", "CURSOR_INVALID"),
        (f"{HIST}?cursor=-1", "CURSOR_INVALID"),
        (f"{HIST}?limit=0", "VALIDATION_ERROR"),
    ],
)
async def test_bad_input_is_a_coded_4xx(client, url, code):
    me = await shopper(client)
    r = await client.get(url, headers=me)
    assert 400 <= r.status_code < 500 and r.json()["error"]["code"] == code, r.text


async def test_a_bad_product_id_in_the_path(client):
    me = await shopper(client)
    for url in (f"{FAV}/0", f"{FAV}/abc", f"{HIST}/{2**63}"):
        r = await client.put(url, headers=me)
        assert r.status_code == 422 and r.json()["error"]["code"] == "VALIDATION_ERROR", (url, r.text)
