"""The console's product/SKU picker endpoint: search by name, SKUs with price and stock, pages, who may
use it, bad input refused with a code (never a 500), and chosen items resolved for a re-rendered form."""

from __future__ import annotations

import pytest

from fissionmall.catalog.admin import clean_ids, picked_products, picked_skus
from tests.console_helpers import console
from tests.helpers import admin, product

URL = "/admin/products/picker"


async def _shop(client, db):
    boss = await admin(client, db, username="picker-owner")
    orange = await product(client, boss, title="赣南脐橙", prices=(1990, 3500), stock=7)
    kiwi = await product(client, boss, title="秦岭猕猴桃", prices=(2990,), stock=0)
    return boss, orange, kiwi


async def test_search_by_name_gives_each_sku_with_its_price_in_yuan_and_stock(client, db):
    _, orange, _ = await _shop(client, db)
    await console(client, db, "operator")
    r = await client.get(URL, params={"q": "脐橙"})
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    body = r.json()
    assert body["next_cursor"] is None
    [p] = body["items"]
    assert (p["id"], p["title"], p["price"], p["stock"]) == (orange["id"], "赣南脐橙", "19.90–35.00", 14)
    assert [(k["id"], k["name"], k["price"], k["price_fen"], k["stock"]) for k in p["skus"]] == [
        (orange["skus"][0]["id"], "规格0", "19.90", 1990, 7),
        (orange["skus"][1]["id"], "规格1", "35.00", 3500, 7),
    ]
    assert p["skus"][0]["label"] == "赣南脐橙 · 规格0" and p["skus"][0]["product_id"] == orange["id"]


async def test_pages_newest_first_with_a_cursor(client, db):
    await _shop(client, db)
    await console(client, db, "operator")
    first = (await client.get(URL, params={"limit": "1"})).json()
    assert [p["title"] for p in first["items"]] == ["秦岭猕猴桃"] and first["next_cursor"]
    second = (await client.get(URL, params={"limit": "1", "cursor": first["next_cursor"]})).json()
    assert [p["title"] for p in second["items"]] == ["赣南脐橙"] and second["next_cursor"] is None
    assert (await client.get(URL, params={"q": "没有这种东西"})).json()["items"] == []


async def test_an_off_sale_product_is_not_offered(client, db):
    boss, orange, _ = await _shop(client, db)
    r = await client.patch(f"/api/admin/v1/products/{orange['id']}", json={"status": "off_sale"}, headers=boss)
    assert r.status_code == 200, r.text
    await console(client, db, "operator")
    assert [p["title"] for p in (await client.get(URL)).json()["items"]] == ["秦岭猕猴桃"]


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"cursor": "abc"}, "CURSOR_INVALID"),
        ({"cursor": "99999999999999999999"}, "CURSOR_INVALID"),
        ({"limit": "0"}, "LIMIT_INVALID"),
        ({"limit": "x"}, "LIMIT_INVALID"),
        ({"sku_ids": "1,abc"}, "INVALID_VALUE"),
        ({"product_ids": ",".join(["1"] * 101)}, "INVALID_VALUE"),
    ],
)
async def test_bad_parameters_are_refused_with_a_code_in_chinese(client, db, params, code):
    await console(client, db, "operator")
    r = await client.get(URL, params=params)
    assert r.status_code == 400, r.text
    err = r.json()["error"]
    assert err["code"] == code and any("\u4e00" <= ch <= "\u9fff" for ch in err["message"])


async def test_odd_search_text_never_fails(client, db):
    await _shop(client, db)
    await console(client, db, "operator")
    for q in ("%", "_", "'; drop table products; --", "橙" * 500):
        r = await client.get(URL, params={"q": q})
        assert r.status_code == 200, (q, r.text)
    r = await client.get(URL, params={"q": "\x00"})
    assert r.status_code == 422 and r.json()["error"]["code"] == "VALIDATION_ERROR"


async def test_catalogue_and_marketing_staff_may_pick_store_staff_may_not(client, db):
    await _shop(client, db)
    assert (await client.get(URL)).status_code == 303  # anonymous: to the login page
    await console(client, db, "finance")  # catalog.read
    assert len((await client.get(URL)).json()["items"]) == 2
    await console(client, db, "store_staff")
    r = await client.get(URL)
    assert r.status_code == 403 and r.json()["error"]["code"] == "PERMISSION_DENIED"
    assert "items" not in r.json()


async def test_chosen_ids_resolve_in_their_order_for_a_re_rendered_form(client, db):
    _, orange, kiwi = await _shop(client, db)
    await console(client, db, "operator")
    k0, k1, kk = orange["skus"][0]["id"], orange["skus"][1]["id"], kiwi["skus"][0]["id"]
    r = await client.get(URL, params={"sku_ids": f"{kk},{k0},999999"})
    assert [(x["id"], x["label"], x["price"]) for x in r.json()["items"]] == [
        (kk, "秦岭猕猴桃 · 规格0", "29.90"),
        (k0, "赣南脐橙 · 规格0", "19.90"),
    ]
    r = await client.get(URL, params={"product_ids": f"{orange['id']}"})
    assert [x["title"] for x in r.json()["items"]] == ["赣南脐橙"]
    assert [x["id"] for x in await picked_skus(db, [k1, k0])] == [k1, k0]
    assert [x["id"] for x in await picked_products(db, [kiwi["id"], orange["id"]])] == [kiwi["id"], orange["id"]]
    assert await picked_skus(db, []) == []
    assert clean_ids(["", "12", "x", "12", "3", "-1", "9" * 30]) == [12, 3]
