"""The plug-in shape: a contribution registered only here changes the price, holds inside the order's
transaction, follows the order's cancellation, and a refusing one leaves nothing behind."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import func, select

from fissionmall.checkout import contributions
from fissionmall.checkout.contributions import Ask, Contribution
from fissionmall.core import clock
from fissionmall.core.errors import AppError
from fissionmall.core.jobs import Event
from fissionmall.orders.models import Order
from fissionmall.pricing.rules import Lines, PricingContext, Quote, Step, _discount, _promotable
from tests.helpers import admin, order, product, shopper
from tests.platform.test_bad_input import snapshot

BONUS_FEN = 300


def double_points_step(lines: Lines, ctx: PricingContext) -> tuple[Lines, list[Step]]:
    """A fake "double points day": 3 yuan off the promotable goods, after the coupon, before points."""
    part = ctx.parts.get("test_double_points")
    if not part:
        return lines, []
    idx = [i for i, p in enumerate(lines) if _promotable(p)]
    left = sum(lines[i].subtotal_fen - lines[i].discount_fen for i in idx)
    cut = min(BONUS_FEN, left)
    if not cut:
        return lines, []
    return _discount(lines, idx, cut), [Step("double_points", "双倍积分日立减", -cut, "double_points:1")]


async def _load(s: Any, ask: Ask) -> dict[str, Any]:
    # A read inside the checkout's session, like a real loader (the shopper's points balance, say).
    customers = await s.scalar(select(func.count()).select_from(Order))
    return {"active": True, "orders_seen": int(customers or 0)}


def _context(part: Any, ctx: PricingContext, ask: Ask) -> PricingContext:
    return replace(ctx, parts={**ctx.parts, "test_double_points": part})


async def _hold(s: Any, order: Any, q: Quote, part: Any, ask: Ask) -> None:
    s.add(Event(type="DoublePointsHeld", payload={"order_id": order.id}, created_at=clock.now()))


async def _cancelled(s: Any, order: Any) -> None:
    s.add(Event(type="DoublePointsReleased", payload={"order_id": order.id}, created_at=clock.now()))


DOUBLE_POINTS = Contribution(
    name="test_double_points",
    refs=("double_points",),
    load=_load,
    context=_context,
    steps=((55, double_points_step),),
    hold=_hold,
    cancelled=_cancelled,
)


async def _refuse(s: Any, order: Any, q: Quote, part: Any, ask: Ask) -> None:
    raise AppError("TEST_WALLET_FROZEN", "钱包已冻结", status=409)


# Registered after the double-points one: its hold runs later, so the double-points hold has already
# written its row when this refuses.
REFUSING = Contribution(name="test_refusing", refs=("double_points",), hold=_refuse)


@pytest.fixture
def double_points() -> Iterator[None]:
    contributions.register(DOUBLE_POINTS)
    try:
        yield
    finally:
        contributions.unregister(DOUBLE_POINTS.name)
        contributions.unregister(REFUSING.name)


async def _events(db: Any, type_: str) -> list[dict[str, Any]]:
    async with db.read() as s:
        return list((await s.scalars(select(Event.payload).where(Event.type == type_))).all())


async def test_a_contribution_registered_in_a_test_prices_holds_and_follows_the_order(client, db, double_points):
    boss = await admin(client, db)
    sku = (await product(client, boss, prices=(5000,), stock=10))["skus"][0]["id"]
    me = await shopper(client, "dp")
    items = [{"sku_id": sku, "qty": 1}]
    q = (await client.post("/api/v1/checkout/preview", json={"items": items}, headers=me)).json()
    # Its step sits where its position says: after the goods, before shipping.
    assert [(st["kind"], st["amount_fen"]) for st in q["steps"]] == [
        ("goods", 5000),
        ("double_points", -BONUS_FEN),
        ("shipping", 800),
    ]
    assert q["payable_fen"] == 5000 - BONUS_FEN + 800
    r = await order(client, me, items)
    assert r.status_code == 201, r.text
    oid = r.json()["id"]
    assert r.json()["payable_fen"] == 5000 - BONUS_FEN + 800
    # Its hold ran inside the order's transaction: the row carries the order's id.
    assert await _events(db, "DoublePointsHeld") == [{"order_id": oid}]
    r = await client.post(f"/api/v1/orders/{oid}/cancel", headers=me)
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    # Its cancel hook ran in the cancelling transaction (no job has run).
    assert await _events(db, "DoublePointsReleased") == [{"order_id": oid}]


async def test_without_the_contribution_the_same_cart_prices_as_before(client, db):
    boss = await admin(client, db)
    sku = (await product(client, boss, prices=(5000,), stock=10))["skus"][0]["id"]
    me = await shopper(client, "plain")
    q = (await client.post("/api/v1/checkout/preview", json={"items": [{"sku_id": sku, "qty": 1}]}, headers=me)).json()
    assert [st["kind"] for st in q["steps"]] == ["goods", "shipping"]
    assert q["payable_fen"] == 5800


async def test_a_refusing_contribution_refuses_with_its_code_and_rolls_the_others_hold_back(client, db, double_points):
    contributions.register(REFUSING)
    boss = await admin(client, db)
    sku = (await product(client, boss, prices=(5000,), stock=10))["skus"][0]["id"]
    me = await shopper(client, "frozen")
    before = await snapshot(db)
    r = await order(client, me, [{"sku_id": sku, "qty": 2}])
    assert (r.status_code, r.json()["error"]["code"]) == (409, "TEST_WALLET_FROZEN")
    assert r.json()["error"]["message"] == "钱包已冻结"
    # No order, no line, no stock taken, no timer, no event: and not the double-points hold either.
    assert await snapshot(db) == before
    assert await _events(db, "DoublePointsHeld") == []
