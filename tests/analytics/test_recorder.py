"""The server's events are recorded exactly once: a redelivered outbox event, or the same event handled
by two workers at once, adds no row; refunds land on the refund's date; `record` is idempotent by key."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta

from sqlalchemy import select, update

from fissionmall.analytics import recorder
from fissionmall.analytics.models import OrderAttribution
from fissionmall.core import clock, jobs
from fissionmall.core.jobs import Job
from tests.analytics.helpers import attributions, events
from tests.helpers import admin, order, pay, product, run_jobs, shopper


async def _paid_and_refunded(client, db) -> tuple[dict, dict]:
    boss = await admin(client, db)
    p = await product(client, boss, prices=(1990, 500))
    me = await shopper(client, "buyer")
    items = [{"sku_id": p["skus"][0]["id"], "qty": 2}, {"sku_id": p["skus"][1]["id"], "qty": 1}]
    r = await order(client, me, items)
    assert r.status_code == 201, r.text
    oid = r.json()["id"]
    await pay(client, me, oid)
    await run_jobs(db)
    clock.advance(3 * 86400)  # the refund is three days later: it counts on its own date
    o = (await client.get(f"/api/v1/orders/{oid}", headers=me)).json()
    line = o["lines"][1]
    body = {"reason": "不想要了", "lines": [{"line_id": line["id"], "qty": 1}]}
    r = await client.post(f"/api/v1/orders/{oid}/refunds", json=body, headers=me)
    assert r.status_code == 201, r.text
    boss = await admin(client, db, username="boss-later")  # the first one's session has expired
    assert (await client.post(f"/api/admin/v1/refunds/{r.json()['id']}/approve", headers=boss)).status_code == 200
    await run_jobs(db)
    return o, r.json()


def _kinds(rows) -> Counter[str]:
    return Counter(e.kind for e in rows)


async def test_an_order_its_payment_refund_and_registration_are_recorded_once_under_redelivery(client, db):
    o, refunded = await _paid_and_refunded(client, db)
    oid, paid_fen = o["id"], o["paid_fen"]
    first = await events(db)
    assert _kinds(first) == {"customer_new": 1, "order_created": 1, "order_paid": 1, "order_refund": 1}
    paid = next(e for e in first if e.kind == "order_paid")
    refund = next(e for e in first if e.kind == "order_refund")
    assert (paid.order_id, paid.tool, paid.amount_fen) == (oid, "normal", paid_fen)
    assert (refund.order_id, refund.amount_fen) == (oid, refunded["amount_fen"])
    assert refund.day == paid.day + timedelta(days=3)  # on the refund's date
    before = await attributions(db, oid)
    assert before == {"first": ("normal", None, paid_fen), "last": ("normal", None, paid_fen)}
    # Every analytics delivery again, as a worker that died before marking them done would leave them.
    async with db.tx() as s:
        res = await s.execute(
            update(Job)
            .where(Job.handler.like("analytics.%"))
            .values(status="pending", done_at=None, due_at=clock.now())
        )
        assert res.rowcount >= 4
    await run_jobs(db)
    again = await events(db)
    assert [(e.id, e.key) for e in again] == [(e.id, e.key) for e in first]
    assert await attributions(db, oid) == before
    async with db.read() as s:
        assert len((await s.scalars(select(OrderAttribution))).all()) == 2


async def test_two_workers_delivering_the_same_event_at_once_store_one_row(client, db):
    await _paid_and_refunded(client, db)
    async with db.read() as s:
        done = list((await s.scalars(select(Job).where(Job.handler.like("analytics.%")))).all())
    assert {j.handler for j in done} >= {"analytics.order_paid", "analytics.order_refund"}
    before = await events(db)

    async def deliver(job: Job) -> None:
        async with db.tx() as s:
            await jobs._handlers[job.handler](s, job)

    # Each delivery twice, concurrently (on PostgreSQL two open transactions: the second waits on the
    # first's key and then inserts nothing).
    await asyncio.gather(*(deliver(j) for j in done for _ in range(2)))
    assert [e.key for e in await events(db)] == [e.key for e in before]


async def test_record_is_idempotent_by_key_and_checks_its_kind(db):
    now = clock.now()
    async with db.tx() as s:
        assert await recorder.record(s, kind="share", at=now, key="t:1", customer_id=7, tool="groupbuy")
        assert not await recorder.record(s, kind="share", at=now, key="t:1", customer_id=8)
        assert await recorder.record(s, kind="coupon_claim", at=now, customer_id=7)  # a random key
        try:
            await recorder.record(s, kind="nope", at=now)
        except ValueError:
            pass
        else:
            raise AssertionError("an unknown kind was recorded")
    rows = await events(db)
    assert [(e.key, e.customer_id, e.origin) for e in rows][:1] == [("t:1", 7, "client")]
    assert rows[1].origin == "server" and rows[1].key.startswith("x:")
