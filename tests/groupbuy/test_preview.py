"""The group buy page's breakdown: POST …/preview prices a group order as opening or joining will, so the
amount on the button is the amount the cashier charges, for any SKU of the activity."""

from __future__ import annotations

from tests.groupbuy.helpers import API, make_activity, opened_and_paid, order_body
from tests.helpers import admin, product, shopper


async def _setup(client, db):
    boss = await admin(client, db)
    p = await product(client, boss, prices=(2990, 4990))
    act = await make_activity(
        client,
        boss,
        p,
        skus=[{"sku_id": p["skus"][0]["id"], "price_fen": 1990}, {"sku_id": p["skus"][1]["id"], "price_fen": 3590}],
        leader_discount_fen=200,
        stock=None,
    )
    return p, act


async def test_opening_preview_is_what_the_leaders_order_charges_for_a_non_default_sku(client, db):
    p, act = await _setup(client, db)
    leader = await shopper(client, "gb-preview-leader")
    second = p["skus"][1]["id"]

    r = await client.post(f"{API}/activities/{act['id']}/preview", json=order_body(second, 2), headers=leader)
    assert r.status_code == 200, r.text
    q = r.json()
    assert q["activity_id"] == act["id"] and q["group_price_fen"] == 3590
    assert [(ln["sku_id"], ln["qty"], ln["unit_price_fen"]) for ln in q["lines"]] == [(second, 2, 4990)]
    kinds = [st["kind"] for st in q["steps"]]
    assert kinds[0] == "goods" and "shipping" in kinds
    # 2 × (35.90 − 2.00 leader discount) plus whatever shipping the chain adds
    assert q["goods_fen"] == 9980 and q["payable_fen"] == 2 * 3390 + q["shipping_fen"]
    assert q["coupons_available"] == [] and q["coupon"] is None

    r = await client.post(f"{API}/activities/{act['id']}/groups", json=order_body(second, 2), headers=leader)
    assert r.status_code == 201, r.text
    assert r.json()["order"]["payable_fen"] == q["payable_fen"]


async def test_joining_and_quick_preview_price_the_member_without_the_leader_discount(client, db):
    p, act = await _setup(client, db)
    leader, friend = await shopper(client, "gb-pv-l"), await shopper(client, "gb-pv-f")
    gid, _ = await opened_and_paid(client, leader, act)
    second = p["skus"][1]["id"]

    join = await client.post(f"{API}/groups/{gid}/preview", json=order_body(second), headers=friend)
    quick = await client.post(
        f"{API}/activities/{act['id']}/preview?quick=true", json=order_body(second), headers=friend
    )
    assert join.status_code == quick.status_code == 200, (join.text, quick.text)
    assert join.json()["payable_fen"] == quick.json()["payable_fen"] == 3590 + join.json()["shipping_fen"]

    r = await client.post(f"{API}/groups/{gid}/join", json=order_body(second), headers=friend)
    assert r.status_code == 201, r.text
    assert r.json()["order"]["payable_fen"] == join.json()["payable_fen"]


async def test_preview_refuses_what_the_order_would_refuse_and_reserves_nothing(client, db):
    p, act = await _setup(client, db)
    who = await shopper(client, "gb-pv-bad")
    other = await product(client, await admin(client, db, username="boss2"), prices=(100,))

    r = await client.post(f"{API}/activities/{act['id']}/preview", json=order_body(other["skus"][0]["id"]), headers=who)
    assert r.status_code == 400 and r.json()["error"]["code"] == "SKU_NOT_IN_ACTIVITY"
    r = await client.post(f"{API}/activities/{act['id']}/preview", json=order_body(p["skus"][0]["id"], 99), headers=who)
    assert r.status_code == 400 and r.json()["error"]["code"] == "QTY_LIMIT_EXCEEDED"
    r = await client.post(f"{API}/activities/999999/preview", json=order_body(p["skus"][0]["id"]), headers=who)
    assert r.status_code == 404
    r = await client.post(f"{API}/activities/{act['id']}/preview", json=order_body(p["skus"][0]["id"]))
    assert r.status_code == 401

    # previews open no group and take no stock
    for _ in range(3):
        r = await client.post(f"{API}/activities/{act['id']}/preview", json=order_body(p["skus"][0]["id"]), headers=who)
        assert r.status_code == 200
    assert (await client.get(f"{API}/activities/{act['id']}/groups")).json() == []
    after = (await client.get(f"/api/v1/products/{p['id']}")).json()
    assert [k["stock"] for k in after["skus"]] == [k["stock"] for k in p["skus"]]
    mine = (await client.get(f"{API}/me/groups", headers=who)).json()
    assert mine == []
