"""The address book (收货地址): CRUD, one default per shopper (also under concurrent writes on PostgreSQL),
wx.chooseAddress as WeChat returns it, phone formats, the cap, and orders taking `address_id` or the default
address with a copy that later edits do not change."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import func, select

from fissionmall.addresses.models import CustomerAddress
from fissionmall.addresses.service import MAX_ADDRESSES
from tests.helpers import admin, product, shopper

API = "/api/v1/me/addresses"


def addr(n: int = 1, **over: Any) -> dict[str, Any]:
    return {
        "name": f"收件人{n}",
        "phone": "13800138000",
        "region": "上海市 浦东新区",
        "detail": f"世纪大道 {n} 号",
        **over,
    }


# What wx.chooseAddress hands the mini-program (success), errMsg and nationalCode included.
WX = {
    "errMsg": "chooseAddress:ok",
    "userName": "张三",
    "postalCode": "510000",
    "provinceName": "广东省",
    "cityName": "广州市",
    "countyName": "海珠区",
    "streetName": "新港中路",
    "detailInfo": "397号",
    "nationalCode": "440105",
    "telNumber": "020-81167888",
}


async def add(client, h, body: dict[str, Any]) -> dict[str, Any]:
    r = await client.post(API, json=body, headers=h)
    assert r.status_code == 201, r.text
    return r.json()


async def book(client, h) -> list[dict[str, Any]]:
    r = await client.get(API, headers=h)
    assert r.status_code == 200, r.text
    return r.json()["items"]


async def defaults(db, customer_count: bool = False) -> int:
    async with db.read() as s:
        return int(await s.scalar(select(func.count()).where(CustomerAddress.is_default.is_(True))) or 0)


async def test_the_first_address_is_the_default_and_one_default_is_kept(client, db):
    me = await shopper(client)
    assert await book(client, me) == []
    a = await add(client, me, addr(1))
    assert a["is_default"] is True and a["source"] == "manual" and a["phone_normalized"] == "13800138000"
    b = await add(client, me, addr(2))
    assert b["is_default"] is False
    c = await add(client, me, addr(3, is_default=True))  # a new default unsets the old one
    assert [x["id"] for x in await book(client, me) if x["is_default"]] == [c["id"]]
    assert (await book(client, me))[0]["id"] == c["id"]  # the default leads the list

    r = await client.put(f"{API}/{b['id']}", json={"is_default": True, "detail": "世纪大道 200 号"}, headers=me)
    assert r.status_code == 200 and r.json()["is_default"] and r.json()["detail"] == "世纪大道 200 号", r.text
    assert [x["id"] for x in await book(client, me) if x["is_default"]] == [b["id"]]
    r = await client.put(f"{API}/{b['id']}", json={"is_default": False}, headers=me)
    assert r.status_code == 409 and r.json()["error"]["code"] == "ADDRESS_DEFAULT_REQUIRED"
    r = await client.put(f"{API}/{b['id']}", json={"name": None}, headers=me)
    assert r.status_code == 422  # null does not clear a required field

    # Deleting the default promotes the most recently created or edited other one (c, created after a).
    r = await client.delete(f"{API}/{b['id']}", headers=me)
    assert r.status_code == 204
    left = await book(client, me)
    assert [(x["id"], x["is_default"]) for x in left] == [(c["id"], True), (a["id"], False)]
    # Editing a makes it the most recent: deleting c now promotes a.
    await client.put(f"{API}/{a['id']}", json={"region": "上海市 黄浦区"}, headers=me)
    await client.delete(f"{API}/{c['id']}", headers=me)
    assert [(x["id"], x["is_default"]) for x in await book(client, me)] == [(a["id"], True)]
    await client.delete(f"{API}/{a['id']}", headers=me)
    assert await book(client, me) == []
    r = await client.delete(f"{API}/{a['id']}", headers=me)
    assert r.status_code == 404 and r.json()["error"]["code"] == "ADDRESS_NOT_FOUND"


async def test_concurrent_set_default_leaves_exactly_one(client, db):
    """Real concurrent requests (PostgreSQL: separate connections; SQLite serialises writers)."""
    me = await shopper(client)
    ids = [(await add(client, me, addr(i)))["id"] for i in range(6)]
    for round_ in range(5):
        rs = await asyncio.gather(*(client.put(f"{API}/{i}", json={"is_default": True}, headers=me) for i in ids))
        assert all(r.status_code == 200 for r in rs), [r.text for r in rs]
        assert await defaults(db) == 1, f"round {round_}"
        winners = [x for x in await book(client, me) if x["is_default"]]
        assert len(winners) == 1


async def test_concurrent_first_addresses_make_one_default_and_respect_the_cap(client, db):
    me = await shopper(client)
    rs = await asyncio.gather(*(client.post(API, json=addr(i), headers=me) for i in range(MAX_ADDRESSES + 5)))
    codes = sorted(r.status_code for r in rs)
    assert codes == [201] * MAX_ADDRESSES + [409] * 5, [r.text for r in rs if r.status_code != 201]
    assert {r.json()["error"]["code"] for r in rs if r.status_code == 409} == {"ADDRESS_BOOK_FULL"}
    assert len(await book(client, me)) == MAX_ADDRESSES
    assert await defaults(db) == 1


async def test_the_book_is_capped(client, db):
    me = await shopper(client)
    for i in range(MAX_ADDRESSES):
        await add(client, me, addr(i))
    r = await client.post(API, json=addr(99), headers=me)
    assert r.status_code == 409 and r.json()["error"]["code"] == "ADDRESS_BOOK_FULL"
    r = await client.post(f"{API}/wechat", json=WX, headers=me)
    assert r.status_code == 409 and r.json()["error"]["code"] == "ADDRESS_BOOK_FULL"
    # Another shopper's book is their own.
    assert (await add(client, await shopper(client, "bob"), addr(1)))["is_default"]


@pytest.mark.parametrize(
    "typed,normalized",
    [
        ("13800138000", "13800138000"),
        ("+86 138 0013 8000", "13800138000"),
        ("+86-138-0013-8000", "13800138000"),
        ("0086 13800138000", "13800138000"),
        ("(020)81167888", "02081167888"),
        ("（020）81167888", "02081167888"),  # full-width brackets from a Chinese keyboard
        ("020-81167888", "02081167888"),
        ("020-81167888-123", "02081167888123"),
        ("+852 2123 4567", "+85221234567"),
    ],
)
async def test_phone_formats_are_accepted_and_kept_as_typed(client, db, typed, normalized):
    me = await shopper(client)
    a = await add(client, me, addr(1, phone=typed))
    assert a["phone_normalized"] == normalized
    assert a["phone"] == typed.replace("（", "(").replace("）", ")")


@pytest.mark.parametrize("typed", ["abc", "1234", "138 0013 8000 ext", "(020 81167888", "+", "1" * 25, "138\u00000013"])
async def test_what_is_not_a_phone_number_is_refused(client, db, typed):
    me = await shopper(client)
    r = await client.post(API, json=addr(1, phone=typed), headers=me)
    assert r.status_code == 422, r.text
    assert await book(client, me) == []
    r = await client.post(
        "/api/v1/orders", json={"items": [{"sku_id": 1, "qty": 1}], "address": addr(1, phone=typed)}, headers=me
    )
    assert r.status_code == 422, r.text  # the same rule at checkout: one definition


async def test_wx_choose_address_is_stored_and_used_for_an_order(client, db):
    boss = await admin(client, db)
    sku = (await product(client, boss, stock=10))["skus"][0]["id"]
    me = await shopper(client)
    r = await client.post(f"{API}/wechat", json=WX, headers=me)
    assert r.status_code == 201, r.text
    a = r.json()
    assert a["name"] == "张三" and a["phone"] == "020-81167888" and a["phone_normalized"] == "02081167888"
    assert a["region"] == "广东省 广州市 海珠区" and a["detail"] == "新港中路397号"
    assert a["postal_code"] == "510000" and a["source"] == "wechat" and a["is_default"] is True
    assert a["region_code"] == "440105"  # nationalCode, held by the table, names the place

    # A municipality's repeated name is said once; a detail that already starts with the street keeps it once;
    # an older picker without streetName works too.
    bj = {**WX, "provinceName": "北京市", "cityName": "北京市", "countyName": "朝阳区", "streetName": "建国路",
          "detailInfo": "建国路88号", "telNumber": "13800138000"}  # fmt: skip
    b = (await client.post(f"{API}/wechat", json=bj, headers=me)).json()
    assert b["region"] == "北京市 朝阳区" and b["detail"] == "建国路88号"
    old = {k: v for k, v in WX.items() if k != "streetName"}
    assert (await client.post(f"{API}/wechat", json=old, headers=me)).json()["detail"] == "397号"
    bad = {**WX, "telNumber": "call me"}
    r = await client.post(f"{API}/wechat", json=bad, headers=me)
    assert r.status_code == 422 and r.json()["error"]["code"] == "VALIDATION_ERROR", r.text

    r = await client.post(
        "/api/v1/orders", json={"items": [{"sku_id": sku, "qty": 1}], "address_id": a["id"]}, headers=me
    )
    assert r.status_code == 201, r.text
    oid = r.json()["id"]
    want = {"name": "张三", "phone": "020-81167888", "phone_normalized": "02081167888",
            "region": "广东省 广州市 海珠区", "detail": "新港中路397号", "region_code": "440105",
            "address_id": a["id"]}  # fmt: skip
    assert (await client.get(f"/api/v1/orders/{oid}", headers=me)).json()["address"] == want

    # The order keeps its copy: editing and deleting the book entry later changes nothing.
    await client.put(f"{API}/{a['id']}", json={"detail": "别处 1 号", "name": "李四"}, headers=me)
    await client.delete(f"{API}/{a['id']}", headers=me)
    assert (await client.get(f"/api/v1/orders/{oid}", headers=me)).json()["address"] == want
    r = await client.get(f"/api/admin/v1/orders/{oid}", headers=boss)
    assert r.status_code == 200 and r.json()["address"] == want


async def test_orders_use_the_default_address_unless_one_is_sent(client, db):
    boss = await admin(client, db)
    sku = (await product(client, boss, stock=10))["skus"][0]["id"]
    me = await shopper(client)
    items = [{"sku_id": sku, "qty": 1}]
    r = await client.post("/api/v1/orders", json={"items": items}, headers=me)
    assert r.status_code == 400 and r.json()["error"]["code"] == "ADDRESS_REQUIRED"
    home = await add(client, me, addr(1))
    other = await add(client, me, addr(2, phone="(020)81167888"))
    r = await client.post("/api/v1/orders", json={"items": items}, headers=me)
    assert r.status_code == 201, r.text
    got = (await client.get(f"/api/v1/orders/{r.json()['id']}", headers=me)).json()["address"]
    assert got["address_id"] == home["id"] and got["detail"] == "世纪大道 1 号"
    r = await client.post("/api/v1/orders", json={"items": items, "address_id": other["id"]}, headers=me)
    got = (await client.get(f"/api/v1/orders/{r.json()['id']}", headers=me)).json()["address"]
    assert got["address_id"] == other["id"] and got["phone"] == "(020)81167888"
    inline = addr(7, phone="+86 139 0013 9000")
    r = await client.post("/api/v1/orders", json={"items": items, "address": inline}, headers=me)
    got = (await client.get(f"/api/v1/orders/{r.json()['id']}", headers=me)).json()["address"]
    assert got == {**inline, "phone_normalized": "13900139000"}
    r = await client.post(
        "/api/v1/orders", json={"items": items, "address": inline, "address_id": home["id"]}, headers=me
    )
    assert r.status_code == 422


async def test_another_shoppers_address_is_not_found(client, db):
    boss = await admin(client, db)
    sku = (await product(client, boss, stock=10))["skus"][0]["id"]
    alice, bob = await shopper(client), await shopper(client, "bob")
    theirs = await add(client, alice, addr(1))
    await add(client, bob, addr(2))
    for r in (
        await client.put(f"{API}/{theirs['id']}", json={"name": "x"}, headers=bob),
        await client.delete(f"{API}/{theirs['id']}", headers=bob),
        await client.post("/api/v1/orders", json={"items": [{"sku_id": sku, "qty": 1}], "address_id": theirs["id"]},
                          headers=bob),
    ):  # fmt: skip
        assert r.status_code == 404 and r.json()["error"]["code"] == "ADDRESS_NOT_FOUND", r.text
    assert [x["id"] for x in await book(client, alice)] == [theirs["id"]]
    assert theirs["id"] not in [x["id"] for x in await book(client, bob)]
    r = await client.get(API)
    assert r.status_code == 401


async def test_the_console_order_page_shows_an_address_book_orders_address(client, db):
    from tests.console_helpers import console

    boss = await admin(client, db)
    sku = (await product(client, boss, stock=10))["skus"][0]["id"]
    me = await shopper(client)
    a = (await client.post(f"{API}/wechat", json=WX, headers=me)).json()
    r = await client.post("/api/v1/orders", json={"items": [{"sku_id": sku, "qty": 1}]}, headers=me)  # the default
    assert r.status_code == 201, r.text
    await client.put(f"{API}/{a['id']}", json={"detail": "后来改的地址"}, headers=me)
    await console(client, db, "operator")
    page = await client.get(f"/admin/orders/{r.json()['id']}")
    assert page.status_code == 200
    block = page.text[page.text.index('id="order-address"') :][:600]
    assert "张三" in block and "020-81167888" in block and "广东省 广州市 海珠区 新港中路397号" in block
    assert "后来改的地址" not in page.text
