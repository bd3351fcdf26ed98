"""Stock and time: the activity's stock goes back to the SKU when it ends (once); an unpaid order cancelled
gives its unit back and the bargain may be ordered again; buying early at the current price."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from fissionmall.bargain.activities import end_activity_stock
from fissionmall.bargain.models import Bargain, BargainActivity
from fissionmall.catalog.models import Sku
from fissionmall.core import clock
from fissionmall.orders.models import Order
from tests.authz import check_admin_matrix
from tests.bargain.helpers import ADMIN, API, friends, help_, make_activity, order, start
from tests.helpers import admin, pay, product, run_jobs, shopper

ADMIN_ROUTES = [
    ("GET", "/api/admin/v1/bargain/activities", None, "marketing.read", "finance"),
    ("POST", "/api/admin/v1/bargain/activities", {"product_id": 1}, "marketing", "finance"),
    (
        "POST",
        "/api/admin/v1/bargain/rules-check",
        {"start_fen": 2, "target_fen": 1, "helpers_needed": 1},
        "marketing.read",
        "finance",
    ),
    ("GET", "/api/admin/v1/bargain/activities/{activity_id}", None, "marketing.read", "finance"),
    ("PUT", "/api/admin/v1/bargain/activities/{activity_id}", {"title": "改名"}, "marketing", "finance"),
    ("DELETE", "/api/admin/v1/bargain/activities/{activity_id}", None, "marketing", "finance"),
    ("GET", "/api/admin/v1/bargain/activities/{activity_id}/funnel", None, "marketing.read", "finance"),
    ("GET", "/api/admin/v1/bargain/bargains", None, "marketing.read", "finance"),
    ("GET", "/api/admin/v1/bargain/bargains/{bargain_id}", None, "marketing.read", "finance"),
]


async def _sku_stock(db, sku_id: int) -> int:
    async with db.read() as s:
        return (await s.get(Sku, sku_id)).stock


async def test_the_activitys_stock_goes_back_to_the_sku_when_it_ends_once(client, db):
    boss = await admin(client, db)
    p = await product(client, boss, prices=(9900,), stock=30)
    sku = p["skus"][0]["id"]
    act = await make_activity(client, boss, p, stock=10, ends_at=(clock.now() + timedelta(hours=1)).isoformat())
    assert await _sku_stock(db, sku) == 20
    clock.advance(3601)
    await run_jobs(db)
    assert await _sku_stock(db, sku) == 30
    async with db.tx() as s:  # the end timer delivered again gives nothing more
        assert await end_activity_stock(s, activity_id=act["id"]) == 0
    assert await _sku_stock(db, sku) == 30
    async with db.read() as s:
        a = await s.get(BargainActivity, act["id"])
        assert (a.stock_closed, a.stock, a.stock_left) == (True, 0, 0)


async def test_closing_an_activity_returns_its_free_stock_and_keeps_the_held_unit(client, db):
    boss = await admin(client, db)
    p = await product(client, boss, prices=(9900,), stock=30)
    sku = p["skus"][0]["id"]
    act = await make_activity(client, boss, p, stock=5, helpers_needed=1, min_cut_fen=None, max_cut_fen=None)
    me = await shopper(client, "starter")
    bid = (await start(client, me, act))["bargain_id"]
    await help_(client, (await friends(client, 1))[0], bid)
    oid = (await order(client, me, bid)).json()["order"]["id"]
    r = await client.delete(f"{ADMIN}/activities/{act['id']}", headers=boss)
    assert r.status_code == 200 and r.json()["status"] == "closed"
    assert await _sku_stock(db, sku) == 25 + 4  # four free units back; one held by the order
    # The unpaid order is cancelled: its unit goes to the SKU, as the activity's stock is closed.
    assert (await client.post(f"/api/v1/orders/{oid}/cancel", headers=me)).status_code == 200
    assert await _sku_stock(db, sku) == 30


async def test_a_cancelled_unpaid_order_gives_the_unit_back_and_the_bargain_can_be_ordered_again(client, db):
    boss = await admin(client, db)
    p = await product(client, boss, prices=(9900,), stock=30)
    act = await make_activity(client, boss, p, stock=1, helpers_needed=1, min_cut_fen=None, max_cut_fen=None)
    me = await shopper(client, "starter")
    bid = (await start(client, me, act))["bargain_id"]
    await help_(client, (await friends(client, 1))[0], bid)
    first = (await order(client, me, bid)).json()["order"]["id"]
    assert (await client.post(f"/api/v1/orders/{first}/cancel", headers=me)).status_code == 200
    async with db.read() as s:
        b = await s.get(Bargain, bid)
        assert (b.status, b.order_id) == ("reached", None)
        assert (await s.get(BargainActivity, act["id"])).stock_left == 1
    r = await order(client, me, bid)
    assert r.status_code == 201, r.text
    second = r.json()["order"]["id"]
    await pay(client, me, second)
    async with db.read() as s:
        refs = (await s.scalars(select(Order.source_ref).where(Order.source == "bargain").order_by(Order.id))).all()
        assert list(refs) == [str(bid), f"{bid}-2"]
        assert (await s.get(Bargain, bid)).status == "bought"


async def test_an_unpaid_order_past_the_deadline_expires_the_bargain_when_it_is_cancelled(client, db):
    boss = await admin(client, db)
    p = await product(client, boss, prices=(9900,))
    act = await make_activity(
        client, boss, p, helpers_needed=1, min_cut_fen=None, max_cut_fen=None, duration_minutes=60, buy_minutes=5
    )
    me = await shopper(client, "starter")
    bid = (await start(client, me, act))["bargain_id"]
    await help_(client, (await friends(client, 1))[0], bid)
    assert (await order(client, me, bid)).status_code == 201
    clock.advance(2 * 3600)  # past the bargain's deadline and the order's pay window
    await run_jobs(db)
    await run_jobs(db)
    assert (await client.get(f"{API}/{bid}")).json()["status"] == "expired"


async def test_where_the_activity_allows_it_the_starter_buys_early_at_the_price_so_far(client, db):
    boss = await admin(client, db)
    p = await product(client, boss, prices=(9900,))
    act = await make_activity(client, boss, p, buy_early=True)
    me = await shopper(client, "starter")
    bid = (await start(client, me, act))["bargain_id"]
    cut = (await help_(client, (await friends(client, 1))[0], bid)).json()["cut_fen"]
    r = await order(client, me, bid)
    assert r.status_code == 201, r.text
    assert r.json()["order"]["payable_fen"] == 9900 - cut + 800
    late = (await friends(client, 1, "late"))[0]
    assert (await help_(client, late, bid)).json()["error"]["code"] == "BARGAIN_ORDERED"


async def test_admin_routes_need_the_marketing_permission(client, db):
    boss = await admin(client, db)
    p = await product(client, boss, prices=(9900,))
    act = await make_activity(client, boss, p)
    bid = (await start(client, await shopper(client, "starter"), act))["bargain_id"]
    await check_admin_matrix(
        client, db, ADMIN_ROUTES, {"activity_id": act["id"], "bargain_id": bid}, await shopper(client, "nosy")
    )
    r = await client.get(f"{ADMIN}/bargains", params={"status": "active"}, headers=boss)
    assert [b["id"] for b in r.json()["items"]] == [bid]
    r = await client.post(
        f"{ADMIN}/rules-check",
        json={"start_fen": 9900, "target_fen": 3900, "helpers_needed": 10, "max_cut_fen": 500},
        headers=boss,
    )
    assert r.json()["ok"] is False and r.json()["code"] == "CUT_BOUNDS_UNREACHABLE"
    r = await client.post(
        f"{ADMIN}/rules-check", json={"start_fen": 9900, "target_fen": 3900, "helpers_needed": 10}, headers=boss
    )
    assert r.json()["ok"] is True and sum(r.json()["sample_cuts"]) == 6000
