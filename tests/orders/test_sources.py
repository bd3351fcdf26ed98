"""Order sources: a marketing tool plans its own orders (a typed plan through checkout.place) and its
hooks run inside the order's own transactions."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from fissionmall.catalog.models import Sku
from fissionmall.checkout import service as checkout
from fissionmall.checkout.plans import Plan, PlannedLine
from fissionmall.checkout.schemas import CheckoutRequest
from fissionmall.core import clock
from fissionmall.core.errors import Conflict
from fissionmall.core.jobs import Event
from fissionmall.orders import service as orders
from fissionmall.orders.sources import register_source
from tests.helpers import ADDRESS, admin, product, run_jobs


async def flash_order(s, *, customer_id, body, settings, source="test_flash", ref=None, refuse=False):
    """A stand-in tool's own service: reserve from its pool, place at 9.90 through checkout, link."""
    if refuse:
        raise Conflict("SOLD_OUT", "the pool is empty")
    s.add(Event(type="FlashReserved", payload={"ref": ref}, created_at=clock.now()))
    plan = Plan(
        lines=tuple(
            PlannedLine(sku_id=k, qty=n, activity_price_fen=990, activity_label="秒杀价", take_sku_stock=False)
            for k, n in checkout.merge_items(body.items, settings.max_line_qty)
        ),
        source=source,
        source_ref=ref,
        pay_minutes=5,
        allows_coupons=False,
    )
    order = await checkout.place(s, customer_id=customer_id, body=body, settings=settings, plan=plan)
    s.add(Event(type="FlashLinked", payload={"order_id": order.id}, created_at=clock.now()))
    return order


class FlashTool:
    """A stand-in tool: sells at 9.90 from a pool of its own, one reservation id per order."""

    name = "test_flash"

    async def cancelled(self, s, *, order) -> None:
        s.add(Event(type="FlashReleased", payload={"order_id": order.id}, created_at=clock.now()))

    async def paid(self, s, *, order) -> None:
        # What the hook sees of the order, and whether OrderPaid is already written (it must not be yet).
        published = await s.scalar(select(func.count()).select_from(Event).where(Event.type == "OrderPaid"))
        s.add(
            Event(
                type="FlashPaid",
                payload={"order_id": order.id, "status": order.status, "order_paid_before": published},
                created_at=clock.now(),
            )
        )


register_source(FlashTool())


async def _events(db, type_: str) -> int:
    async with db.read() as s:
        return int(await s.scalar(select(func.count()).select_from(Event).where(Event.type == type_)) or 0)


async def test_a_source_prices_reserves_links_and_releases_inside_the_order_transactions(client, db, settings):
    boss = await admin(client, db)
    p = await product(client, boss, prices=(1990,), stock=7)
    sku, cid = p["skus"][0]["id"], None
    from tests.helpers import shopper

    await shopper(client, "flash")
    async with db.read() as s:
        from fissionmall.accounts.models import Customer

        cid = await s.scalar(select(Customer.id))
    body = CheckoutRequest(items=[{"sku_id": sku, "qty": 2}], address=ADDRESS)
    async with db.tx() as s:
        o = await flash_order(s, customer_id=cid, body=body, settings=settings, ref="R-1")
    assert o.source == "test_flash" and o.source_ref == "R-1"
    assert o.payable_fen == 2 * 990 + 800
    assert [(st["kind"], st["label"], st["amount_fen"]) for st in o.steps] == [
        ("goods", "商品金额", 3980),
        ("activity", "秒杀价", -2000),
        ("shipping", "运费", 800),
    ]
    assert (o.pay_deadline - o.created_at).total_seconds() == 300
    async with db.read() as s:
        assert await s.scalar(select(Sku.stock).where(Sku.id == sku)) == 7  # the tool's pool, not the SKU's
    assert await _events(db, "FlashReserved") == 1 and await _events(db, "FlashLinked") == 1

    # The same reservation can never become a second order.
    with pytest.raises(Exception):  # noqa: B017 - IntegrityError from the unique (source, source_ref)
        async with db.tx() as s:
            await flash_order(s, customer_id=cid, body=body, settings=settings, ref="R-1")
    assert await _events(db, "FlashReserved") == 1  # the failed attempt rolled back whole

    clock.advance(301)
    await run_jobs(db)
    async with db.read() as s:
        o2 = await orders.get_order(s, order_id=o.id)
        assert o2.status == "cancelled"
        assert await s.scalar(select(Sku.stock).where(Sku.id == sku)) == 7
    assert await _events(db, "FlashReleased") == 1


async def test_a_source_refusal_leaves_nothing_behind(client, db, settings):
    boss = await admin(client, db)
    sku = (await product(client, boss, stock=3))["skus"][0]["id"]
    body = CheckoutRequest(items=[{"sku_id": sku, "qty": 1}], address=ADDRESS, coupon_id=None)
    from tests.helpers import shopper

    await shopper(client, "x")
    with pytest.raises(Conflict) as exc:
        async with db.tx() as s:
            await flash_order(s, customer_id=1, body=body, settings=settings, refuse=True)
    assert exc.value.code == "SOLD_OUT"
    body2: Any = CheckoutRequest(items=[{"sku_id": sku, "qty": 1}], address=ADDRESS, coupon_id=3)
    with pytest.raises(Exception) as exc2:
        async with db.tx() as s:
            await flash_order(s, customer_id=1, body=body2, settings=settings, ref="R-9")
    assert getattr(exc2.value, "code", "") == "COUPON_NOT_APPLICABLE"
    async with db.read() as s:
        from fissionmall.orders.models import Order

        assert await s.scalar(select(func.count()).select_from(Order)) == 0
    assert await _events(db, "FlashReserved") == 0


class HeldTool(FlashTool):
    """A tool whose paid orders wait (like a forming group) until it says otherwise."""

    name = "test_held"
    ready = False

    async def can_ship(self, s, *, order) -> str | None:
        return None if self.ready else "GROUP_FORMING"


register_source(HeldTool())


async def _source_order(client, db, settings, *, code: str, source: str, ref: str) -> tuple[Any, Any, Any]:
    """An owner, a shopper and one unit of a new product ordered through `source`: (owner, shopper, order)."""
    from fissionmall.accounts.models import Customer
    from tests.helpers import shopper

    boss = await admin(client, db)
    sku = (await product(client, boss))["skus"][0]["id"]
    me = await shopper(client, code)
    async with db.read() as s:
        cid = await s.scalar(select(Customer.id))
    async with db.tx() as s:
        o = await flash_order(
            s,
            customer_id=cid,
            body=CheckoutRequest(items=[{"sku_id": sku, "qty": 1}], address=ADDRESS),
            settings=settings,
            source=source,
            ref=ref,
        )
    return boss, me, o


async def test_a_source_can_hold_a_paid_order_back_from_shipping(client, db, settings):
    from tests.helpers import pay

    boss, me, o = await _source_order(client, db, settings, code="held", source="test_held", ref="H-1")
    await pay(client, me, o.id)
    ship = {"carrier": "顺丰", "tracking_no": "SF123456"}
    r = await client.post(f"/api/admin/v1/orders/{o.id}/ship", json=ship, headers=boss)
    assert (r.status_code, r.json()["error"]["code"]) == (409, "GROUP_FORMING")
    assert (await client.get(f"/api/v1/orders/{o.id}", headers=me)).json()["status"] == "paid"
    HeldTool.ready = True
    r = await client.post(f"/api/admin/v1/orders/{o.id}/ship", json=ship, headers=boss)
    assert r.status_code == 200 and r.json()["status"] == "shipped"


async def test_the_paid_hook_runs_once_inside_the_confirming_transaction(client, db, settings):
    from fissionmall.payments.gateway import SandboxGateway, get_gateway

    _, me, o = await _source_order(client, db, settings, code="paid-hook", source="test_flash", ref="P-1")
    pid = (await client.post(f"/api/v1/orders/{o.id}/pay", json={"method": "gateway"}, headers=me)).json()["payment_id"]
    gw = get_gateway("sandbox")
    assert isinstance(gw, SandboxGateway)
    headers, body = gw.notification(
        {"kind": "payment", "reference": pid, "amount_fen": o.payable_fen, "external_id": "TXP", "status": "SUCCESS"}
    )
    outcomes = [
        (await client.post("/api/v1/payments/sandbox/notify", content=body, headers=headers)).json()["outcome"]
        for _ in range(3)
    ]
    assert outcomes == ["applied", "duplicate", "duplicate"]
    # No job has run: what the hook wrote committed with the payment, once, after the order became paid
    # and before OrderPaid was published.
    async with db.read() as s:
        rows = (await s.scalars(select(Event.payload).where(Event.type == "FlashPaid"))).all()
    assert rows == [{"order_id": o.id, "status": "paid", "order_paid_before": 0}]
    assert await _events(db, "OrderPaid") == 1
