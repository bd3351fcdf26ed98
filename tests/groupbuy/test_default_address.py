"""Opening and joining a group with the contract's {sku_id, qty}: the default address serves; an inline
address or address_id overrides; an empty book is ADDRESS_REQUIRED."""

from __future__ import annotations

from tests.groupbuy.helpers import API, make_activity
from tests.helpers import admin, pay, product, run_jobs, shopper

HOME = {"name": "赵六", "phone": "020-81167888", "region": "广东省 广州市 海珠区", "detail": "新港中路 397 号"}


async def test_open_and_join_use_the_default_address(client, db):
    boss = await admin(client, db)
    act = await make_activity(client, boss, await product(client, boss, stock=50))
    sku = act["skus"][0]["sku_id"]
    leader, friend = await shopper(client, "leader"), await shopper(client, "friend")

    r = await client.post(f"{API}/activities/{act['id']}/groups", json={"sku_id": sku, "qty": 1}, headers=leader)
    assert r.status_code == 400 and r.json()["error"]["code"] == "ADDRESS_REQUIRED", r.text
    home = (await client.post("/api/v1/me/addresses", json=HOME, headers=leader)).json()
    r = await client.post(f"{API}/activities/{act['id']}/groups", json={"sku_id": sku, "qty": 1}, headers=leader)
    assert r.status_code == 201, r.text
    gid, oid = r.json()["group_id"], r.json()["order"]["id"]
    o = (await client.get(f"/api/v1/orders/{oid}", headers=leader)).json()
    assert o["address"] == {**HOME, "phone_normalized": "02081167888", "address_id": home["id"]}
    await pay(client, leader, oid)  # the group shows (and can be joined) once the leader has paid
    await run_jobs(db)

    await client.post("/api/v1/me/addresses", json={**HOME, "name": "钱七"}, headers=friend)
    work = (
        await client.post("/api/v1/me/addresses", json={**HOME, "name": "钱七", "detail": "公司"}, headers=friend)
    ).json()
    r = await client.post(f"{API}/groups/{gid}/join", json={"sku_id": sku, "qty": 1, "address_id": work["id"]},
                          headers=friend)  # fmt: skip
    assert r.status_code == 201, r.text
    o = (await client.get(f"/api/v1/orders/{r.json()['order']['id']}", headers=friend)).json()
    assert o["address"]["detail"] == "公司" and o["address"]["address_id"] == work["id"]
    # Someone else's address is not found.
    r = await client.post(f"{API}/groups/{gid}/join", json={"sku_id": sku, "qty": 1, "address_id": home["id"]},
                          headers=await shopper(client, "third"))  # fmt: skip
    assert r.status_code == 404 and r.json()["error"]["code"] == "ADDRESS_NOT_FOUND", r.text
