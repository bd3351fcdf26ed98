"""Virtual orders (orders/virtual.py): a top-up or a membership sold through the gateway with no goods."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from fissionmall.accounts.models import Customer
from fissionmall.core import clock
from fissionmall.core.errors import Conflict
from fissionmall.core.jobs import Event
from fissionmall.orders import service as orders
from fissionmall.orders import virtual
from fissionmall.orders.models import Order, Refund
from fissionmall.orders.sources import SourceDefaults, register_source
from tests.helpers import pay, run_jobs, shopper


class Voucher(SourceDefaults):
    """A stand-in tool: grants on payment and completes the order at once."""

    name = "test_voucher"

    async def can_ship(self, s, *, order) -> None:
        return None

    async def can_refund(self, s, *, order) -> None:
        return None

    async def paid(self, s, *, order) -> None:
        s.add(Event(type="VoucherGranted", payload={"order_id": order.id}, created_at=clock.now()))
        assert await virtual.complete(s, order=order)


register_source(Voucher())


async def test_a_virtual_order_is_paid_through_the_cashier_completes_and_refunds_part(client, db):
    h = await shopper(client, "v")
    async with db.tx() as s:
        cid = await s.scalar(select(Customer.id))
        o = await virtual.place_virtual(
            s, customer_id=cid, source="test_voucher", source_ref="V-1", title="储值500元送100元", amount_fen=50000
        )
        again = await virtual.place_virtual(
            s, customer_id=cid, source="test_voucher", source_ref="V-1", title="储值500元送100元", amount_fen=50000
        )
        assert again.id == o.id  # the same reference is the same order
    r = await client.get(f"/api/v1/orders/{o.id}", headers=h)
    assert r.status_code == 200 and r.json()["payable_fen"] == 50000 and r.json()["lines"] == []
    await pay(client, h, o.id)
    async with db.read() as s:
        got = await orders.get_order(s, order_id=o.id)
        assert got.status == "completed" and got.paid_fen == 50000
        assert virtual.title_of(got) == "储值500元送100元" and virtual.is_virtual(got)
        assert len((await s.scalars(select(Event).where(Event.type == "VoucherGranted"))).all()) == 1

    async with db.tx() as s:
        await orders.lock_order(s, order_id=o.id)
        ref = await virtual.refund_virtual(s, order_id=o.id, amount_fen=30000, reason="退还未用本金", key="vr:1")
        dup = await virtual.refund_virtual(s, order_id=o.id, amount_fen=30000, reason="退还未用本金", key="vr:1")
        assert dup.id == ref.id
    with pytest.raises(Conflict) as exc:
        async with db.tx() as s:
            await virtual.refund_virtual(s, order_id=o.id, amount_fen=20001, reason="x", key="vr:2")
    assert exc.value.code == "REFUND_EXCEEDS_PAID"  # 500 paid, 300 already on its way back
    await run_jobs(db)
    async with db.read() as s:
        refund = await s.scalar(select(Refund).where(Refund.key == "vr:1"))
        assert refund is not None and refund.status == "succeeded" and refund.amount_fen == 30000
        row = await s.get(Order, o.id)
        assert row is not None and row.refunded_fen == 30000


async def test_an_unpaid_virtual_order_is_cancelled_by_its_timer_and_cannot_be_refunded(client, db):
    await shopper(client, "w")
    async with db.tx() as s:
        cid = await s.scalar(select(Customer.id))
        o = await virtual.place_virtual(
            s,
            customer_id=cid,
            source="test_voucher",
            source_ref="V-2",
            title="尊享会员 年卡",
            amount_fen=9900,
            pay_minutes=15,
        )
    with pytest.raises(Conflict) as exc:
        async with db.tx() as s:
            await virtual.refund_virtual(s, order_id=o.id, amount_fen=100, reason="x", key="vr:3")
    assert exc.value.code == "REFUND_NOT_ALLOWED"
    clock.advance(15 * 60 + 1)
    await run_jobs(db)
    async with db.read() as s:
        assert (await orders.get_order(s, order_id=o.id)).status == "cancelled"
