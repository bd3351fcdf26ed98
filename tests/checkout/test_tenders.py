"""Split tenders over HTTP: an order paid part by a test tender and part by the gateway, refunded line by
line, gives each tender back its exact share, to the fen (issue #12)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from fissionmall.checkout import contributions, tenders
from fissionmall.checkout.contributions import Contribution
from fissionmall.core import clock
from fissionmall.core.jobs import Event
from fissionmall.orders.models import Order, Refund
from fissionmall.payments.gateway import SandboxGateway
from fissionmall.payments.models import Payment
from tests.helpers import admin, order, pay, product, run_jobs, shopper

CARD = "test_card"
# How much of the payable the card pays, per test: a function of the payable (None: the card stays out).
card_pays: dict[str, Any] = {"fen": None}


async def _take(s, o, amount_fen: int) -> None:
    s.add(Event(type="TestCardTaken", payload={"order_id": o.id, "amount_fen": amount_fen}, created_at=clock.now()))


async def _give_back(s, o, amount_fen: int, refund_id: int) -> None:
    payload = {"order_id": o.id, "amount_fen": amount_fen, "refund_id": refund_id}
    s.add(Event(type="TestCardGiven", payload=payload, created_at=clock.now()))


async def _release(s, o, amount_fen: int) -> None:
    s.add(Event(type="TestCardReleased", payload={"order_id": o.id, "amount_fen": amount_fen}, created_at=clock.now()))


def _tender(part, q, ask) -> tuple[str, int] | None:
    fen = card_pays["fen"]
    return None if fen is None else (CARD, fen(q.payable_fen))


@pytest.fixture(autouse=True)
def card(monkeypatch) -> Iterator[list[tuple[int, int]]]:
    """The test tender and the contribution that makes it pay; yields the gateway's refund calls."""
    tenders.register(tenders.Tender(name=CARD, take=_take, give_back=_give_back, release=_release))
    contributions.register(Contribution(name="test_card_pays", tender=_tender))
    asked: list[tuple[int, int]] = []

    async def refund(self, *, refund_id: int, payment_id: int, amount_fen: int, total_fen: int) -> None:
        asked.append((refund_id, amount_fen))

    monkeypatch.setattr(SandboxGateway, "refund", refund)
    try:
        yield asked
    finally:
        contributions.unregister("test_card_pays")
        tenders.unregister(CARD)
        card_pays["fen"] = None


async def _card_events(db, kind: str, order_id: int) -> list[dict[str, Any]]:
    async with db.read() as s:
        rows = (await s.scalars(select(Event).where(Event.type == kind).order_by(Event.id))).all()
    return [e.payload for e in rows if e.payload["order_id"] == order_id]


async def _refund(client, db, sh, ah, order_id: int, lines: list[dict[str, int]]) -> dict[str, Any]:
    r = await client.post(f"/api/v1/orders/{order_id}/refunds", json={"lines": lines, "reason": "不想要了"}, headers=sh)
    assert r.status_code == 201, r.text
    refund = r.json()
    r = await client.post(f"/api/admin/v1/refunds/{refund['id']}/approve", headers=ah)
    assert r.status_code == 200, r.text
    await run_jobs(db)
    return refund


async def _setup(client, db, prices=(1990, 2990, 990)):
    ah = await admin(client, db)
    p = await product(client, ah, prices=prices, stock=1000)
    sh = await shopper(client)
    return ah, sh, [k["id"] for k in p["skus"]]


async def _order_lines(client, sh, order_id: int) -> list[dict[str, Any]]:
    r = await client.get(f"/api/v1/orders/{order_id}", headers=sh)
    assert r.status_code == 200, r.text
    return r.json()["lines"]


async def test_split_order_refunded_line_by_line_returns_each_tender_its_exact_share(client, db, card) -> None:
    ah, sh, skus = await _setup(client, db)
    card_pays["fen"] = lambda payable: 1237  # an odd share, so every partial refund has to round
    r = await order(
        client, sh, [{"sku_id": skus[0], "qty": 3}, {"sku_id": skus[1], "qty": 2}, {"sku_id": skus[2], "qty": 1}]
    )
    assert r.status_code == 201, r.text
    oid, payable = r.json()["id"], r.json()["payable_fen"]
    assert await _card_events(db, "TestCardTaken", oid) == [{"order_id": oid, "amount_fen": 1237}]

    paid = await pay(client, sh, oid)
    async with db.read() as s:
        payment = await s.scalar(select(Payment).where(Payment.order_id == oid))
        assert payment is not None and payment.amount_fen == payable - 1237  # the gateway asked for its due only
        o = await s.get(Order, oid)
        assert o is not None and o.status == "paid" and o.paid_fen == payable
    assert paid

    lines = await _order_lines(client, sh, oid)
    # A rejected refund gives its reservation back: the next ones split as if it never was.
    r = await client.post(
        f"/api/v1/orders/{oid}/refunds",
        json={"lines": [{"line_id": lines[1]["id"], "qty": 1}], "reason": "x"},
        headers=sh,
    )
    assert r.status_code == 201, r.text
    r = await client.post(f"/api/admin/v1/refunds/{r.json()['id']}/reject", json={"reason": "不符合"}, headers=ah)
    assert r.status_code == 200, r.text

    refund_ids = []
    for ln in lines:
        for _ in range(ln["qty"]):
            refund_ids.append((await _refund(client, db, sh, ah, oid, [{"line_id": ln["id"], "qty": 1}]))["id"])

    async with db.read() as s:
        refunds = {r.id: r for r in (await s.scalars(select(Refund).where(Refund.id.in_(refund_ids)))).all()}
        o = await s.get(Order, oid)
    assert o is not None and o.status == "closed" and o.refunded_fen == payable
    given = await _card_events(db, "TestCardGiven", oid)
    by_refund = {g["refund_id"]: g["amount_fen"] for g in given}
    assert len(by_refund) == len(given)  # give_back ran once per refund
    gateway_asked = dict(card)
    for rid in refund_ids:
        r = refunds[rid]
        assert r.status == "succeeded"
        assert r.tender_parts is not None
        shares = {p["tender"]: p["amount_fen"] for p in r.tender_parts}
        assert sum(shares.values()) == r.amount_fen
        assert all(v >= 0 for v in shares.values())
        assert by_refund.get(rid, 0) == shares[CARD]
        assert gateway_asked.get(rid, 0) == shares["gateway"]
    assert sum(by_refund.values()) == 1237  # the card got back exactly what it paid
    assert sum(gateway_asked.values()) == payment.amount_fen  # and the gateway exactly what it took
    assert [(t["tender"], t["refunded_fen"], t["pending_fen"]) for t in o.tenders or []] == [
        (CARD, 1237, 0),
        ("gateway", payable - 1237, 0),
    ]


examples: list[int] = []


@pytest.mark.slow  # about 1.3 s an example over HTTP; the test above covers the same path in the quick run
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture], database=None)
@given(
    share=st.integers(min_value=0, max_value=10_000),  # basis points of the payable the card pays
    qty=st.lists(st.integers(min_value=1, max_value=3), min_size=2, max_size=3),
    order_of_units=st.randoms(use_true_random=False),
)
async def test_any_amounts_and_refund_orders_return_each_tender_its_share(client, db, card, share, qty, order_of_units):
    # Function-scoped fixtures are shared by the examples: each example places its own order.
    examples.append(1)
    ah = await admin(client, db, username=f"owner-{len(examples)}")
    p = await product(client, ah, prices=(1990, 2990, 333), stock=1000)
    sh = await shopper(client)
    card_pays["fen"] = lambda payable: payable * share // 10_000
    items = [{"sku_id": k["id"], "qty": n} for k, n in zip(p["skus"], qty, strict=False)]
    r = await order(client, sh, items)
    assert r.status_code == 201, r.text
    oid, payable = r.json()["id"], r.json()["payable_fen"]
    card_fen = payable * share // 10_000
    if card_fen < payable:
        await pay(client, sh, oid)
    units = [ln["id"] for ln in await _order_lines(client, sh, oid) for _ in range(ln["qty"])]
    order_of_units.shuffle(units)
    card.clear()
    refund_ids = [(await _refund(client, db, sh, ah, oid, [{"line_id": u, "qty": 1}]))["id"] for u in units]
    given = {g["refund_id"]: g["amount_fen"] for g in await _card_events(db, "TestCardGiven", oid)}
    async with db.read() as s:
        refunds = list((await s.scalars(select(Refund).where(Refund.id.in_(refund_ids)))).all())
    assert all(r.status == "succeeded" for r in refunds)
    for r in refunds:
        if r.tender_parts is None:  # the card paid nothing: a plain order, all gateway
            assert card_fen == 0
            continue
        parts = {p["tender"]: p["amount_fen"] for p in r.tender_parts}
        assert sum(parts.values()) == r.amount_fen and min(parts.values()) >= 0
    assert sum(given.values()) == card_fen
    assert sum(a for _, a in card) == payable - card_fen


async def test_a_tender_paying_everything_pays_the_order_at_once_without_a_payment(client, db) -> None:
    ah, sh, skus = await _setup(client, db)
    card_pays["fen"] = lambda payable: payable
    r = await order(client, sh, [{"sku_id": skus[0], "qty": 2}])
    assert r.status_code == 201, r.text
    oid, payable = r.json()["id"], r.json()["payable_fen"]
    assert r.json()["status"] == "paid"
    async with db.read() as s:
        assert (await s.scalars(select(Payment).where(Payment.order_id == oid))).all() == []
        o = await s.get(Order, oid)
        paid_events = (await s.scalars(select(Event).where(Event.type == "OrderPaid"))).all()
    assert o is not None and o.status == "paid" and o.paid_fen == payable
    assert [(e.payload["payment_id"], e.payload["paid_fen"]) for e in paid_events if e.payload["order_id"] == oid] == [
        (None, payable)
    ]
    r = await client.post(f"/api/v1/orders/{oid}/pay", json={"method": "gateway"}, headers=sh)
    assert r.status_code == 409 and r.json()["error"]["code"] == "ORDER_NOT_PAYABLE"
    # Its refund has no gateway share: applied by the execute job, without asking the gateway.
    rid = (
        await _refund(client, db, sh, ah, oid, [{"line_id": (await _order_lines(client, sh, oid))[0]["id"], "qty": 2}])
    )["id"]
    async with db.read() as s:
        refund = await s.get(Refund, rid)
    assert refund is not None and refund.status == "succeeded" and refund.gateway_refund_id is None
    assert [g["amount_fen"] for g in await _card_events(db, "TestCardGiven", oid)] == [payable]


async def test_more_than_the_payable_is_refused(client, db) -> None:
    _, sh, skus = await _setup(client, db)
    card_pays["fen"] = lambda payable: payable + 1
    r = await order(client, sh, [{"sku_id": skus[0], "qty": 1}])
    assert r.status_code == 400, r.text
    assert r.json()["error"]["code"] == "TENDER_EXCEEDS_PAYABLE"
    async with db.read() as s:
        assert (await s.scalars(select(Order))).all() == []
        assert (await s.scalars(select(Event).where(Event.type == "TestCardTaken"))).all() == []


async def test_cancelling_an_unpaid_split_order_releases_the_tender(client, db) -> None:
    _, sh, skus = await _setup(client, db)
    card_pays["fen"] = lambda payable: 500
    r = await order(client, sh, [{"sku_id": skus[0], "qty": 1}])
    oid = r.json()["id"]
    r = await client.post(f"/api/v1/orders/{oid}/cancel", headers=sh)
    assert r.status_code == 200, r.text
    assert await _card_events(db, "TestCardReleased", oid) == [{"order_id": oid, "amount_fen": 500}]


async def test_a_plain_order_stores_no_tenders(client, db) -> None:
    _, sh, skus = await _setup(client, db)
    r = await order(client, sh, [{"sku_id": skus[0], "qty": 1}])
    oid = r.json()["id"]
    await pay(client, sh, oid)
    async with db.read() as s:
        o = await s.get(Order, oid)
    assert o is not None and o.tenders is None and o.status == "paid"


async def test_concurrent_refund_requests_split_over_what_the_other_left(client, db, card) -> None:
    # Both requests reserve under the order's row lock: whichever goes second splits over what the first
    # left, so the two splits together never promise a tender more than it paid.
    ah, sh, skus = await _setup(client, db, prices=(1001, 1003))
    card_pays["fen"] = lambda payable: 777
    r = await order(client, sh, [{"sku_id": skus[0], "qty": 1}, {"sku_id": skus[1], "qty": 1}])
    oid, payable = r.json()["id"], r.json()["payable_fen"]
    await pay(client, sh, oid)
    lines = await _order_lines(client, sh, oid)
    got = await asyncio.gather(
        *(
            client.post(
                f"/api/v1/orders/{oid}/refunds",
                json={"lines": [{"line_id": ln["id"], "qty": 1}], "reason": "x"},
                headers=sh,
            )
            for ln in lines
        )
    )
    assert [g.status_code for g in got] == [201, 201], [g.text for g in got]
    async with db.read() as s:
        o = await s.get(Order, oid)
        refunds = (await s.scalars(select(Refund).where(Refund.order_id == oid))).all()
    assert o is not None and o.tenders is not None
    card_parts = [p["amount_fen"] for rf in refunds for p in rf.tender_parts or [] if p["tender"] == CARD]
    assert sum(card_parts) == 777  # the two together refund everything: the card's whole share, no more
    assert [(t["tender"], t["pending_fen"]) for t in o.tenders] == [(CARD, 777), ("gateway", payable - 777)]
    for rf in refunds:
        await client.post(f"/api/admin/v1/refunds/{rf.id}/approve", headers=ah)
    await run_jobs(db)
    assert sum(g["amount_fen"] for g in await _card_events(db, "TestCardGiven", oid)) == 777
    assert sum(a for _, a in card) == payable - 777
