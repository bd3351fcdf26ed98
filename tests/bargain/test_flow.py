"""Bargaining end to end over HTTP: start, friends help to the target exactly, buy, pay; the share page."""

from __future__ import annotations

from sqlalchemy import func, select

from fissionmall.bargain import views
from fissionmall.bargain.models import BargainActivity
from fissionmall.catalog.models import Sku
from fissionmall.core.jobs import Event
from tests.bargain.helpers import API, friends, help_, make_activity, order, start
from tests.helpers import admin, pay, product, run_jobs, shopper


async def _events(db, type_: str) -> int:
    async with db.read() as s:
        return int(await s.scalar(select(func.count()).select_from(Event).where(Event.type == type_)) or 0)


async def test_five_friends_cut_the_price_to_the_target_exactly_and_the_starter_buys_it(client, db):
    boss = await admin(client, db)
    p = await product(client, boss, prices=(9900,), stock=50)
    act = await make_activity(client, boss, p)
    assert (act["start_fen"], act["stock"], act["stock_left"]) == (9900, 10, 10)
    async with db.read() as s:
        assert (await s.get(Sku, p["skus"][0]["id"])).stock == 40  # the activity's 10 moved out of the SKU
    me = await shopper(client, "starter")
    started = await start(client, me, act)
    bid = started["bargain_id"]
    assert (started["price_fen"], started["target_fen"]) == (9900, 3900)

    # Not yet at the target: buying is refused (this activity sells at the floor only).
    r = await order(client, me, bid)
    assert (r.status_code, r.json()["error"]["code"]) == (409, "TARGET_NOT_REACHED")

    cuts = []
    for i, f in enumerate(await friends(client, 5)):
        r = await help_(client, f, bid)
        assert r.status_code == 200, r.text
        body = r.json()
        assert 100 <= body["cut_fen"] <= 2000
        cuts.append(body["cut_fen"])
        assert body["helps"] == i + 1
        assert body["status"] == ("reached" if i == 4 else "active")
    assert sum(cuts) == 9900 - 3900
    assert (await _events(db, "BargainHelped"), await _events(db, "BargainReached")) == (5, 1)

    page = (await client.get(f"{API}/{bid}")).json()
    assert (page["price_fen"], page["status"], page["progress_bp"]) == (3900, "reached", 10_000)
    assert [h["cut_fen"] for h in page["helps"]] == cuts
    assert all(h["nickname"] for h in page["helps"])
    mine = (await client.get(f"{API}/{bid}", headers=me)).json()
    assert mine["me"] == {"role": "starter"} and mine["can_order"] is True

    r = await order(client, me, bid)
    assert r.status_code == 201, r.text
    oid = r.json()["order"]["id"]
    assert r.json()["order"]["payable_fen"] == 3900 + 800  # the target, plus shipping
    await pay(client, me, oid)
    await run_jobs(db)
    page = (await client.get(f"{API}/{bid}", headers=me)).json()
    assert (page["status"], page["order_id"]) == ("bought", oid)
    o = (await client.get(f"/api/v1/orders/{oid}", headers=me)).json()
    assert o["source"] == "bargain"
    # A bought bargain takes no more helps.
    late = (await friends(client, 1, "late"))[0]
    r = await help_(client, late, bid)
    assert (r.status_code, r.json()["error"]["code"]) == (409, "BARGAIN_BOUGHT")

    async with db.read() as s:
        assert await views.sum_breaks(s) == []
        a = await s.get(BargainActivity, act["id"])
        assert (a.stock, a.stock_left) == (10, 9)  # one unit sold from the activity's own stock
    funnel = (await client.get(f"/api/admin/v1/bargain/activities/{act['id']}/funnel", headers=boss)).json()
    assert funnel | {"cost_per_new_fen": None} == {
        "activity_id": act["id"],
        "started": 1,
        "helped": 1,
        "reached": 1,
        "ordered": 1,
        "paid": 1,
        "helps": 5,
        "new_helpers": 5,
        "discount_fen": 6000,
        "cost_per_new_fen": None,
    }
    assert funnel["cost_per_new_fen"] == 1200  # ¥60 given away over 5 new shoppers


async def test_my_bargains_lists_the_started_one(client, db):
    boss = await admin(client, db)
    p = await product(client, boss, prices=(9900,))
    act = await make_activity(client, boss, p)
    me = await shopper(client, "mine")
    bid = (await start(client, me, act))["bargain_id"]
    rows = (await client.get(f"{API}/me/bargains", headers=me)).json()
    assert [(r["id"], r["status"], r["helpers_needed"]) for r in rows] == [(bid, "active", 5)]
    assert (await client.get(f"{API}/activities")).json()[0]["product"]["title"] == "测试商品"
