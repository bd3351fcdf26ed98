"""Paying under races: one open payment per order, confirmations that cannot deadlock or keep money twice,
and forged notifications that are counted instead of burying the real ones.

Requests are fired together with asyncio.gather through the ASGI app: on PostgreSQL each runs in its own
transaction at the same time (the backend these races are about); on SQLite they queue on the write lock,
and the same assertions hold.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from typing import Any

import httpx
from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import create_async_engine

from fissionmall.catalog.models import Sku
from fissionmall.core import clock
from fissionmall.core.db import Database
from fissionmall.core.jobs import Event
from fissionmall.core.migrate import upgrade
from fissionmall.orders.models import Order, Refund
from fissionmall.payments import service as payments
from fissionmall.payments.gateway import FAIL_MESSAGE_MAX, BadNotification, SandboxGateway, get_gateway
from fissionmall.payments.models import GatewayNotification, GatewayNotificationCount, Payment
from fissionmall.payments.wechatpay.gateway import WechatPayGateway
from tests.console_helpers import console
from tests.helpers import admin, order, product, run_jobs, shopper
from tests.platform.test_migrations import empty_db  # noqa: F401  (a fresh database to migrate)
from tests.wechat.conftest import (  # noqa: F401  (fixtures for the WeChat Pay refusals below)
    fake_pay,
    merchant_key,
    platform_key,
    transport,
    wx_app,
    wx_client,
    wx_db,
    wx_settings,
)

PAYABLE = 1990 + 800  # the default product plus shipping


def _sandbox() -> SandboxGateway:
    gw = get_gateway("sandbox")
    assert isinstance(gw, SandboxGateway)
    return gw


def _note(payment_id: int, amount_fen: int = PAYABLE) -> tuple[dict[str, str], bytes]:
    return _sandbox().notification(
        {
            "kind": "payment",
            "reference": payment_id,
            "amount_fen": amount_fen,
            "external_id": f"TX{payment_id}",
            "status": "SUCCESS",
        }
    )


async def _notify(client: httpx.AsyncClient, note: tuple[dict[str, str], bytes]) -> httpx.Response:
    headers, body = note
    return await client.post("/api/v1/payments/sandbox/notify", content=body, headers=headers)


async def _shop(client: httpx.AsyncClient, db: Database, stock: int = 100) -> tuple[dict[str, str], int]:
    boss = await admin(client, db)
    sku = (await product(client, boss, stock=stock))["skus"][0]["id"]
    return await shopper(client), sku


async def _new_order(client: httpx.AsyncClient, me: dict[str, str], sku: int) -> int:
    r = await order(client, me, [{"sku_id": sku, "qty": 1}])
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


async def _pay(client: httpx.AsyncClient, me: dict[str, str], oid: int) -> int:
    r = await client.post(f"/api/v1/orders/{oid}/pay", json={"method": "gateway"}, headers=me)
    assert r.status_code == 200, r.text
    return int(r.json()["payment_id"])


async def _closed_payments(db: Database, oid: int, n: int) -> list[int]:
    """Closed payments of the order with its amount: what duplicate payments from before one-open-payment
    became (migration 0010 closes all but one), or a payment closed when a new one replaced it. The
    shopper may still pay each one's prepay, so each can be confirmed."""
    async with db.tx() as s:
        o = await s.get(Order, oid)
        assert o is not None
        rows = [
            Payment(
                order_id=oid,
                customer_id=o.customer_id,
                method="gateway",
                gateway="sandbox",
                amount_fen=o.payable_fen,
                status="closed",
                created_at=clock.now(),
            )
            for _ in range(n)
        ]
        s.add_all(rows)
        await s.flush()
        return [p.id for p in rows]


async def _money(db: Database, oid: int) -> dict[str, Any]:
    """What the gateway took for the order, what went back as late-payment refunds, and what the order says."""
    async with db.read() as s:
        o = await s.get(Order, oid)
        assert o is not None
        taken = await s.scalar(
            select(func.coalesce(func.sum(Payment.amount_fen), 0)).where(
                Payment.order_id == oid, Payment.status == "succeeded"
            )
        )
        late = (
            await s.execute(
                select(Refund.payment_id, Refund.amount_fen, Refund.status).where(
                    Refund.order_id == oid, Refund.kind == "late_payment"
                )
            )
        ).all()
        paid_events = await s.scalar(
            select(func.count())
            .select_from(Event)
            .where(Event.type == "OrderPaid", Event.payload["order_id"].as_integer() == oid)
        )
        succeeded = set(
            (await s.scalars(select(Payment.id).where(Payment.order_id == oid, Payment.status == "succeeded"))).all()
        )
    return {
        "status": o.status,
        "paid_fen": o.paid_fen,
        "taken": int(taken or 0),
        "late": late,
        "paid_events": paid_events,
        "succeeded": succeeded,
    }


# ---- one open payment per order --------------------------------------------------------------------


async def test_20_concurrent_pays_without_a_key_open_one_payment_and_prepay_only_it(client, db, monkeypatch):
    me, sku = await _shop(client, db)
    oid = await _new_order(client, me, sku)
    gw = _sandbox()
    prepaid: list[int] = []
    real_prepay = gw.prepay

    async def recording_prepay(**kw: Any) -> dict[str, Any]:
        prepaid.append(kw["payment_id"])
        return await real_prepay(**kw)

    monkeypatch.setattr(gw, "prepay", recording_prepay)

    results = await asyncio.gather(
        *(client.post(f"/api/v1/orders/{oid}/pay", json={"method": "gateway"}, headers=me) for _ in range(20))
    )

    assert [r.status_code for r in results] == [200] * 20, [r.text for r in results if r.status_code != 200]
    ids = {r.json()["payment_id"] for r in results}
    assert len(ids) == 1, ids
    (pid,) = ids
    assert {r.json()["gateway"]["cashier_url"] for r in results} == {f"/shop/#/cashier/{pid}"}
    async with db.read() as s:
        rows = (await s.execute(select(Payment.id, Payment.status).where(Payment.order_id == oid))).all()
    assert rows == [(pid, "pending")]
    # Each answer got its prepay, and only ever for the payment that was kept.
    assert set(prepaid) == {pid} and len(prepaid) == 20


async def test_a_repeat_after_the_amount_changed_closes_the_old_payment_and_refunds_it_if_paid(client, db):
    me, sku = await _shop(client, db)
    oid = await _new_order(client, me, sku)
    old = await _pay(client, me, oid)
    assert await _pay(client, me, oid) == old  # same amount: the same payment
    async with db.tx() as s:  # the order now asks for another amount (nothing does this today)
        await s.execute(update(Order).where(Order.id == oid).values(payable_fen=PAYABLE - 100))
    new = await _pay(client, me, oid)
    assert new != old
    async with db.read() as s:
        rows = dict((await s.execute(select(Payment.id, Payment.status).where(Payment.order_id == oid))).all())
    assert rows == {old: "closed", new: "pending"}

    # The shopper had paid the old prepay after all: it goes back; the new one pays the order.
    assert (await _notify(client, _note(old))).json()["outcome"] == "refunded_late_payment"
    assert (await _notify(client, _note(new, PAYABLE - 100))).json()["outcome"] == "applied"
    await run_jobs(db)
    m = await _money(db, oid)
    assert m["status"] == "paid" and m["paid_fen"] == PAYABLE - 100 and m["paid_events"] == 1
    assert m["late"] == [(old, PAYABLE, "succeeded")]
    # A paid order is not payable again, and the answer says why.
    r = await client.post(f"/api/v1/orders/{oid}/pay", json={"method": "gateway"}, headers=me)
    assert (r.status_code, r.json()["error"]["code"]) == (409, "ORDER_NOT_PAYABLE")


# ---- confirmations ---------------------------------------------------------------------------------


async def test_50_concurrent_confirmations_of_one_order_pay_it_once_and_refund_the_others_once(client, db):
    me, sku = await _shop(client, db)
    oid = await _new_order(client, me, sku)
    live = await _pay(client, me, oid)
    others = await _closed_payments(db, oid, 4)
    # Ten deliveries of each of the five payments' notifications, shuffled, all at once.
    notes = [_note(pid) for pid in [live, *others] for _ in range(10)]
    random.Random(24).shuffle(notes)

    results = await asyncio.gather(*(_notify(client, n) for n in notes))

    assert Counter(r.status_code for r in results) == {200: 50}, [r.text for r in results if r.status_code != 200]
    assert Counter(r.json()["outcome"] for r in results) == {"applied": 1, "refunded_late_payment": 4, "duplicate": 45}
    await run_jobs(db)
    m = await _money(db, oid)
    assert m["status"] == "paid" and m["paid_fen"] == PAYABLE and m["paid_events"] == 1
    assert m["succeeded"] == {live, *others}
    # Every payment but the one that paid the order went back exactly once, in full.
    assert sorted(p for p, _, _ in m["late"]) == sorted(m["succeeded"] - {_applied(results, notes)})
    assert {(a, st) for _, a, st in m["late"]} == {(PAYABLE, "succeeded")}
    assert m["taken"] - PAYABLE * len(m["late"]) == m["paid_fen"]


def _applied(results: list[httpx.Response], notes: list[tuple[dict[str, str], bytes]]) -> int:
    import json

    (body,) = [n[1] for r, n in zip(results, notes, strict=True) if r.json()["outcome"] == "applied"]
    return int(json.loads(body)["reference"])


async def test_cancel_racing_confirmations_and_the_worker_never_deadlocks_or_keeps_money(client, db):
    me, sku = await _shop(client, db, stock=10)
    for _ in range(6):
        oid = await _new_order(client, me, sku)
        live = await _pay(client, me, oid)
        (old,) = await _closed_payments(db, oid, 1)

        cancel, *confirms, _ = await asyncio.gather(
            client.post(f"/api/v1/orders/{oid}/cancel", headers=me),
            _notify(client, _note(live)),
            _notify(client, _note(old)),
            _notify(client, _note(live)),
            run_jobs(db),  # the OrderCancelled handler closing the open payment, at the same time
        )

        assert cancel.status_code in (200, 409), cancel.text
        assert [r.status_code for r in confirms] == [200, 200, 200], [r.text for r in confirms]
        await run_jobs(db)
        m = await _money(db, oid)
        refunded = {p for p, _, st in m["late"] if st == "succeeded"}
        if m["status"] == "cancelled":
            assert cancel.status_code == 200 and m["paid_fen"] == 0 and m["paid_events"] == 0
            assert refunded == m["succeeded"] == {live, old}  # money for a cancelled order all went back
        else:
            assert m["status"] == "paid" and cancel.status_code == 409 and m["paid_events"] == 1
            assert len(refunded) == 1 and refunded < m["succeeded"] == {live, old}
        assert m["taken"] - PAYABLE * len(m["late"]) == m["paid_fen"]  # kept exactly what the order shows
        async with db.read() as s:
            assert await s.scalar(select(func.count()).select_from(Payment).where(Payment.status == "pending")) == 0
    async with db.read() as s:
        sold = await s.scalar(select(func.count()).select_from(Order).where(Order.status == "paid"))
        assert await s.scalar(select(Sku.stock).where(Sku.id == sku)) == 10 - sold


# ---- refused notifications -------------------------------------------------------------------------


async def test_200_forged_notifications_keep_20_rows_count_the_rest_and_show_the_count(client, db):
    me, sku = await _shop(client, db)
    oid = await _new_order(client, me, sku)
    pid = await _pay(client, me, oid)
    headers, body = _note(pid)
    forged = {**headers, "x-sandbox-signature": "0" * 64}
    # A real failure first: a correctly signed notification for the wrong amount.
    assert (await _notify(client, _note(pid, 1))).json()["outcome"] == "amount_mismatch"

    results = await asyncio.gather(
        *(client.post("/api/v1/payments/sandbox/notify", content=body, headers=forged) for _ in range(200))
    )

    assert Counter(r.status_code for r in results) == {401: 200}
    kept = payments.REFUSED_KEPT_PER_HOUR
    async with db.read() as s:
        outcomes = Counter((await s.scalars(select(GatewayNotification.outcome))).all())
        counts = (await s.execute(select(GatewayNotificationCount.cause, GatewayNotificationCount.received))).all()
    assert outcomes == {"signature_invalid": kept, "amount_mismatch": 1}
    assert counts == [("signature_invalid", 200)]

    await console(client, db, "owner")
    page = await client.get("/admin/notifications?failed=1")
    assert page.status_code == 200
    assert f"另有 {200 - kept} 条同类通知未逐条保存" in page.text and 'data-unsaved="180"' in page.text
    assert 'data-outcome="amount_mismatch"' in page.text  # the real failure is still on the page

    # A new hour keeps its own first ones again.
    clock.advance(3600)
    await client.post("/api/v1/payments/sandbox/notify", content=body, headers=forged)
    async with db.read() as s:
        assert (
            await s.scalar(
                select(func.count())
                .select_from(GatewayNotification)
                .where(GatewayNotification.outcome == "signature_invalid")
            )
            == kept + 1
        )
        assert sorted((await s.scalars(select(GatewayNotificationCount.received))).all()) == [1, 200]


async def test_every_refusal_message_fits_in_wechats_64_characters(client, db):
    me, sku = await _shop(client, db)
    pid = await _pay(client, me, await _new_order(client, me, sku))
    headers, body = _note(pid)
    gw = _sandbox()
    junk = b'{"kind": "payment"}'
    cases = [
        (body, {**headers, "x-sandbox-signature": "f" * 64}),
        (body, {}),
        (junk, {"x-sandbox-signature": gw.sign(junk)}),
    ]
    for b, h in cases:
        r = await client.post("/api/v1/payments/sandbox/notify", content=b, headers=h)
        assert r.status_code in (400, 401) and r.json()["code"] == "FAIL"
        assert _fits(r.json()["message"]), r.json()
    # Whatever a refusal says (WeChat's carry the sender's own serial), the answer is cut to fit.
    for msg in ("x" * 300, "签名" * 100, ""):
        assert _fits(BadNotification("SERIAL_UNKNOWN", msg, status=401).fail_body()["message"])


def _fits(message: str) -> bool:
    return 0 < len(message.encode()) <= FAIL_MESSAGE_MAX


async def test_wechat_refusals_answer_fail_with_at_most_64_characters(wx_client, wx_db, fake_pay):  # noqa: F811
    gw = get_gateway("wechatpay")
    assert isinstance(gw, WechatPayGateway)
    boss = await admin(wx_client, wx_db)
    sku = (await product(wx_client, boss))["skus"][0]["id"]
    me = await shopper(wx_client, "alice")
    pid = await _pay(wx_client, me, await _new_order(wx_client, me, sku))
    no = f"P{pid:010d}"
    fake_pay.pay(no)
    resource = fake_pay.transaction(fake_pay.state.orders[no])
    good = fake_pay.payment_notification(no)
    bad = [
        (good.headers, good.body.replace(b'"summary": "', b'"summary": "x')),
        ({}, good.body),
    ]
    for kw in ({"serial": "S" * 64}, {"age_seconds": 600}, {"signtest": True}, {"apiv3_key": "k" * 32}):
        n = fake_pay.notification("TRANSACTION.SUCCESS", "transaction", resource, "", "s", **kw)
        bad.append((n.headers, n.body))
    n = fake_pay.notification("TRANSACTION.SUCCESS", "transaction", resource, "", "s", raw_body=b"{not json")
    bad.append((n.headers, n.body))
    causes = set()
    for h, b in bad:
        r = await wx_client.post("/api/v1/payments/wechatpay/notify", content=b, headers=h)
        assert r.status_code in (400, 401) and r.json()["code"] == "FAIL", r.text
        assert _fits(r.json()["message"]), r.json()["message"]
        causes.add(r.json()["error"]["code"])
    assert len(causes) >= 5, causes


async def test_migration_0010_keeps_one_open_payment_of_orders_paid_twice_before_it(empty_db):  # noqa: F811
    """Databases from before 0010 may hold several open payments of one order (the race this fixes):
    the upgrade closes all but the newest instead of failing on the new unique index."""
    upgrade(empty_db, "0009")
    engine = create_async_engine(empty_db)
    rows = [(1, 10, "pending"), (2, 10, "pending"), (3, 11, "pending"), (4, 10, "pending"), (5, 10, "succeeded")]
    try:
        async with engine.begin() as conn:
            if engine.dialect.name == "postgresql":
                await conn.execute(text("SET LOCAL session_replication_role = replica"))  # no orders rows needed
            for pid, oid, status in rows:
                await conn.execute(
                    text(
                        "INSERT INTO payments (id, order_id, customer_id, method, gateway, amount_fen, status,"
                        " created_at) VALUES (:id, :o, 1, 'gateway', 'sandbox', 100, :st, '2026-11-30 10:00:00')"
                    ),
                    {"id": pid, "o": oid, "st": status},
                )
        upgrade(empty_db, "0010")
        async with engine.connect() as conn:
            got = (await conn.execute(text("SELECT id, status FROM payments ORDER BY id"))).all()
    finally:
        await engine.dispose()
    assert got == [(1, "closed"), (2, "closed"), (3, "pending"), (4, "pending"), (5, "succeeded")]
