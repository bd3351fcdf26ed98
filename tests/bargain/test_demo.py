"""The demo's bargain: an activity running now on a demo product and one started bargain with a first cut."""

from __future__ import annotations

from fissionmall.demo import bargain as demo_bargain
from tests.helpers import admin, product


async def test_the_demo_seeds_a_running_activity_and_a_started_bargain(client, db):
    boss = await admin(client, db)
    cup = await product(client, boss, prices=(8900,), stock=100, title="不锈钢保温杯")
    r = await client.put(
        f"/api/admin/v1/products/{cup['id']}",
        json={"skus": [{"id": cup["skus"][0]["id"], "name": "500ml 奶白", "price_fen": 8900, "stock": 100}]},
        headers=boss,
    )
    assert r.status_code == 200, r.text
    info = await demo_bargain.seed(client, boss, {"不锈钢保温杯": r.json()})
    live = (await client.get("/api/v1/bargain/activities")).json()
    assert [a["id"] for a in live] == [info["bargain_activity_id"]]
    assert live[0]["title"] == "邀请 5 人助力，¥39 抱回家"
    page = (await client.get(f"/api/v1/bargain/{info['bargain_id']}")).json()
    assert (page["status"], page["helps_count"], page["target_fen"]) == ("active", 1, 3900)
    assert 500 <= 8900 - page["price_fen"] <= 2000
