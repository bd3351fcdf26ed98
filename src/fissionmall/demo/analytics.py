"""The demo's 数据中心: two weeks of shoppers so the dashboard's charts have something to draw.

Every shopper is made through the public API like a real one: a visit (the shop's page views and a share
link opened, POST /events), a login (some from the demo distributor's link, so they are bound to them), a
coupon claimed in the 领券中心, an order with the coupon and the 全场满减 and, most of the time, the payment
through the sandbox gateway; today a few also buy in the running flash sale. The past days are made now and
then moved back: each earlier shopper's rows (their raw events, orders, payments' times, attributions, the
distributor's order and commission entries, the account) are shifted by whole days by SQL (`_backdate`),
the demo's one liberty with history, and the dashboard's rollups are then rebuilt from the raw events and
the orders table, so its figures agree with the orders to the fen. Without a database (a running server
seeded over HTTP) the history stays on today's date.
"""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import delete, or_, select, update

from fissionmall.accounts.models import Customer
from fissionmall.analytics import rollups, seckill_copy
from fissionmall.analytics.models import AnalyticsEvent, OrderAttribution
from fissionmall.analytics.recorder import shop_day
from fissionmall.analytics.rollup_models import DailyPerson, DailyRollup, PersonLast, RollupState
from fissionmall.core import jobs
from fissionmall.core.db import Database
from fissionmall.distribution.models import Commission, DistributionOrder
from fissionmall.orders.models import Order
from fissionmall.payments.models import Payment

ADMIN = "/api/admin/v1"
API = "/api/v1"
ADDRESS = {"name": "演示顾客", "phone": "13900139000", "region": "浙江省 杭州市 西湖区", "detail": "文三路 88 号"}
DISTRIBUTOR_CODE = "demo-distributor"
HISTORY_DAYS = 13  # shoppers on each of the 13 days before today, and today's
# What the history shoppers buy (title, SKU): none of them is in a flash sale, a group buy or the A/B test.
BASKETS: tuple[tuple[tuple[str, str, int], ...], ...] = (
    (("烟台红富士苹果", "5斤装", 2),),
    (("黄油曲奇饼干", "铁盒 454g", 1), ("氨基酸洁面乳", "120g", 1)),
    (("婴儿纸尿裤", "L码 54片", 2),),
    (("滋润护手霜礼盒", "30g×3支", 1), ("20W快充充电器", "含1米数据线", 1)),
    (("海南贵妃芒果", "5斤装", 1), ("婴儿棉柔巾", "100抽×6包", 1)),
    (("磁吸手机支架", "桌面款", 3),),
)


def _ok(r: httpx.Response, *status: int) -> Any:
    if r.status_code not in (status or (200,)):
        raise RuntimeError(f"demo analytics: {r.request.method} {r.request.url.path} → {r.status_code} {r.text}")
    return r.json()


def _items(page: Any) -> list[dict[str, Any]]:
    return list(page["items"] if isinstance(page, dict) else page)


async def _login(c: httpx.AsyncClient, code: str, device: str, ref: str | None = None) -> dict[str, str]:
    body = {"code": code, **({"ref": ref} if ref else {})}
    token = _ok(await c.post(f"{API}/auth/wechat-login", json=body, headers={"X-Device-Id": device}))["token"]
    return {"Authorization": f"Bearer {token}", "X-Device-Id": device}


async def _pay(c: httpx.AsyncClient, who: dict[str, str], order_id: int) -> None:
    pid = _ok(await c.post(f"{API}/orders/{order_id}/pay", json={"method": "gateway"}, headers=who))["payment_id"]
    _ok(await c.post(f"{API}/payments/sandbox/{pid}/succeed", headers=who))


async def _pages(c: httpx.AsyncClient) -> list[str]:
    """The tools' pages a visitor may browse: the flash sale's items, the group buy, the bargain, the coupons."""
    pages = ["coupons"]
    for sess in _ok(await c.get(f"{API}/seckill/sessions"))["sessions"]:
        pages += [f"seckill:{i['id']}" for i in sess["items"]]
    pages += [f"groupbuy:{a['id']}" for a in _items(_ok(await c.get(f"{API}/groupbuy/activities")))]
    pages += [f"bargain:{a['id']}" for a in _items(_ok(await c.get(f"{API}/bargain/activities")))]
    return pages


async def _visit(
    c: httpx.AsyncClient, rng: random.Random, *, device: str, pages: list[str], products: list[int], ref: str | None
) -> None:
    """What the shop's own script sends for a visit (features/analytics.js): a link opened, pages seen."""
    events: list[dict[str, Any]] = []
    if ref:
        events.append({"type": "share_open", "ref": ref, "page": "distribution", "id": "open"})
    for n, page in enumerate(rng.sample(pages, k=min(len(pages), rng.randint(2, 4)))):
        events.append({"type": "page_view", "page": page, "id": f"view{n}"})
    for n, pid in enumerate(rng.sample(products, k=2)):
        events.append({"type": "page_view", "page": f"product:{pid}", "product_id": pid, "id": f"item{n}"})
    if rng.random() < 0.3:
        events.append({"type": "share", "page": rng.choice(pages), "id": "share"})
    _ok(await c.post(f"{API}/events", json={"events": events}, headers={"X-Device-Id": device}), 202)


async def _shopper(
    c: httpx.AsyncClient,
    rng: random.Random,
    ps: dict[str, dict[str, Any]],
    *,
    code: str,
    pages: list[str],
    coupon_id: int,
    share_code: str,
) -> tuple[int, str]:
    """One shopper's visit and (usually) purchase; returns their customer id and device."""
    device = f"{code}-phone"
    referred = rng.random() < 0.45
    ref = share_code if referred else None
    await _visit(c, rng, device=device, pages=pages, products=[p["id"] for p in ps.values()], ref=ref)
    me = await _login(c, code, device, ref=ref)
    cid = int(_ok(await c.get(f"{API}/me", headers=me))["id"])
    if rng.random() < 0.2:
        return cid, device  # looked, never bought
    mine = None
    if rng.random() < 0.6:
        _ok(await c.post(f"{API}/coupons/{coupon_id}/claim", headers=me), 200, 201)
        coupons = _items(_ok(await c.get(f"{API}/me/coupons", headers=me)))
        mine = next((x["id"] for x in coupons if x.get("template_id") == coupon_id), None)
    basket = rng.choice(BASKETS)
    items = [{"sku_id": next(k["id"] for k in ps[t]["skus"] if k["name"] == sku), "qty": qty} for t, sku, qty in basket]
    body: dict[str, Any] = {"items": items, "address": ADDRESS}
    if mine is not None:
        body["coupon_id"] = mine
    r = await c.post(f"{API}/orders", json=body, headers=me)
    if r.status_code != 201 and "coupon_id" in body:  # under the coupon's threshold: order without it
        r = await c.post(f"{API}/orders", json={"items": items, "address": ADDRESS}, headers=me)
    order = _ok(r, 201)
    if rng.random() < 0.85:
        await _pay(c, me, int(order["id"]))
    return cid, device


async def _flash_buyers(c: httpx.AsyncClient, *, db: Database | None) -> int:
    """Today: three shoppers buy the nuts in the running flash sale (what the 实时监控 counts)."""
    live = [
        i
        for sess in _ok(await c.get(f"{API}/seckill/sessions"))["sessions"]
        for i in sess["items"]
        if i["state"] == "active"
    ]
    item = live[-1]  # the second item of the session on now (the earphones are left for the tour)
    bought = 0
    for n in range(3):
        me = await _login(c, f"demo-flash-{n}", f"demo-flash-{n}-phone")
        tok = _ok(await c.post(f"{API}/seckill/items/{item['id']}/token", headers=me))["token"]
        body = {"qty": 1, "token": tok, "address": ADDRESS}
        got = _ok(await c.post(f"{API}/seckill/items/{item['id']}/attempts", json=body, headers=me), 200, 202)
        if got.get("order_id") is None and db is not None:  # queued on the Redis stream: place it now
            from fissionmall.seckill import consumer

            await consumer.drain(db)
            got = _ok(await c.get(f"{API}/seckill/attempts/{got['attempt_id']}", headers=me))
        if got.get("order_id") is not None:
            await _pay(c, me, int(got["order_id"]))
            bought += 1
    return bought


async def _shift_rows(db: Database, *, model: Any, where: Any, columns: tuple[Any, ...], by: timedelta) -> None:
    async with db.tx() as s:
        rows = (await s.execute(select(model.id, *columns).where(where))).all()
        for row in rows:
            moved = {col.key: (row[i + 1] - by if row[i + 1] is not None else None) for i, col in enumerate(columns)}
            at = moved.get("at")
            if at is not None and hasattr(model, "day"):  # the shop date follows the moment
                moved["day"] = shop_day(at)
            await s.execute(update(model).where(model.id == row[0]).values(**moved))


async def _backdate(db: Database, *, customer_id: int, device: str, days: int) -> None:
    """Move one shopper's whole story `days` back (the demo's history; docs/demo.md says so)."""
    by = timedelta(days=days)
    async with db.read() as s:
        orders = list((await s.scalars(select(Order.id).where(Order.customer_id == customer_id))).all())
    e = AnalyticsEvent
    mine = or_(e.customer_id == customer_id, e.device_id == device)
    await _shift_rows(db, model=e, where=mine, columns=(e.at, e.received_at), by=by)
    await _shift_rows(db, model=Order, where=Order.id.in_(orders), columns=(Order.created_at, Order.paid_at), by=by)
    await _shift_rows(db, model=Payment, where=Payment.order_id.in_(orders), columns=(Payment.created_at,), by=by)
    do, cm = DistributionOrder, Commission
    await _shift_rows(db, model=do, where=do.order_id.in_(orders), columns=(do.paid_at,), by=by)
    await _shift_rows(db, model=cm, where=cm.order_id.in_(orders), columns=(cm.created_at,), by=by)
    await _shift_rows(db, model=Customer, where=Customer.id == customer_id, columns=(Customer.created_at,), by=by)
    async with db.tx() as s:
        for oid in orders:
            paid = await s.scalar(select(Order.paid_at).where(Order.id == oid))
            if paid is not None:
                q = update(OrderAttribution).where(OrderAttribution.order_id == oid).values(day=shop_day(paid))
                await s.execute(q)


async def rebuild_rollups(db: Database) -> None:
    """The dashboard's rollups recomputed from the raw events and the orders table (after the backdating)."""
    async with db.tx() as s:
        await seckill_copy.copy_attempts(s)
    async with db.tx() as s:
        await s.execute(delete(DailyRollup))
        await s.execute(delete(DailyPerson))
        await s.execute(delete(PersonLast))
        await s.execute(delete(RollupState).where(RollupState.name == rollups.STATE))
        await rollups.catch_up(s, settle_seconds=0)
        if not await rollups.backfill_once(s):  # the orders' rows: rebuilt from the orders table
            await rollups.rebuild_orders(s)


async def seed(
    c: httpx.AsyncClient, boss: dict[str, str], ps: dict[str, dict[str, Any]], *, db: Database | None = None
) -> dict[str, Any]:
    """Two weeks of shoppers (backdated when `db` is given) and today's flash-sale buyers; returns counts."""
    rng = random.Random(18)
    dist = await _login(c, DISTRIBUTOR_CODE, f"{DISTRIBUTOR_CODE}-phone")
    share_code = str(_ok(await c.get(f"{API}/distribution/me", headers=dist))["share_code"])
    coupon = next(t for t in _items(_ok(await c.get(f"{API}/coupons", headers=dist))) if t["name"] == "满99减10")
    pages = await _pages(c)
    story: list[tuple[int, int, str]] = []  # (days ago, customer, device)
    for days in range(HISTORY_DAYS, -1, -1):
        for n in range(rng.randint(2, 4)):
            cid, device = await _shopper(
                c, rng, ps, code=f"demo-d{days:02d}-{n}", pages=pages, coupon_id=coupon["id"], share_code=share_code
            )
            story.append((days, cid, device))
    flash = await _flash_buyers(c, db=db)
    if db is not None:
        while await jobs.run_due(db):
            pass
        for days, cid, device in story:
            if days:
                await _backdate(db, customer_id=cid, device=device, days=days)
        await rebuild_rollups(db)
    return {"shoppers": len(story), "flash_buyers": flash, "days": HISTORY_DAYS + 1}
