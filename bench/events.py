"""The merchant's data: event ingest rate, through `POST /events` and from the outbox, on PostgreSQL.

A fresh `fm_bench_events_<pid>` database (Alembic) and the app in process (httpx's ASGI transport: the
app's own cost, without a network or a server in front; the endpoint's rate limits are lifted for the
run, since the load comes from one address).

http: `--clients` concurrent anonymous devices each send batches of `--batch` page views (the shop sends
up to 20); figures: requests/s and events/s, and the rows stored (checked: every event stored once, and
a resend of the first batches stores nothing).

outbox: N `GroupJoined` and N `OrderCreated` events published through the outbox (only the analytics
subscribers' jobs kept), then `--workers` concurrent job runners (`FOR UPDATE SKIP LOCKED`) record them;
figures: events/s and rows (checked: 2N, and a redelivery of every job adds none).

`.venv/bin/python -m bench.events [--quick] [--events N] [--clients C] [--batch B] [--workers W] [--pg-url URL]`
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import emit, log

PG_URL = os.environ.get("FISSIONMALL_BENCH_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")


async def _pg_exec(url: str, sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"), timeout=10)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def _count(db: Any) -> int:
    from sqlalchemy import func, select

    from fissionmall.analytics.models import AnalyticsEvent

    async with db.read() as s:
        return int(await s.scalar(select(func.count()).select_from(AnalyticsEvent)) or 0)


async def bench_http(app: Any, db: Any, n_events: int, clients: int, batch: int) -> dict[str, Any]:
    import httpx

    requests = max(1, n_events // batch)
    per_client = -(-requests // clients)

    async def device(c: httpx.AsyncClient, k: int) -> None:
        for i in range(per_client):
            if k * per_client + i >= requests:
                return
            body = {
                "events": [{"type": "page_view", "id": f"{i}-{j}", "page": f"product:{j + 1}"} for j in range(batch)]
            }
            r = await c.post("/api/v1/events", json=body, headers={"X-Device-Id": f"bench-{k}"})
            assert r.status_code == 202, r.text

    transport = httpx.ASGITransport(app=app, client=("10.9.8.7", 4242))
    async with httpx.AsyncClient(transport=transport, base_url="http://shop.test", timeout=60) as c:
        t0 = time.perf_counter()
        await asyncio.gather(*(device(c, k) for k in range(clients)))
        elapsed = time.perf_counter() - t0
        stored = await _count(db)
        again = {"events": [{"type": "page_view", "id": f"0-{j}", "page": f"product:{j + 1}"} for j in range(batch)]}
        r = await c.post("/api/v1/events", json=again, headers={"X-Device-Id": "bench-0"})
        resent_stored = r.json()["stored"]
    sent = requests * batch
    return {
        "bench": "events_http",
        "backend": "postgres",
        "clients": clients,
        "batch": batch,
        "requests": requests,
        "events": sent,
        "seconds": round(elapsed, 3),
        "requests_per_s": round(requests / elapsed, 1),
        "events_per_s": round(sent / elapsed, 1),
        "invariant_ok": stored == sent and resent_stored == 0,
    }


async def bench_outbox(db: Any, n_events: int, workers: int) -> dict[str, Any]:
    from sqlalchemy import delete, update

    from fissionmall.core import clock, events, jobs
    from fissionmall.groupbuy.events import GroupJoined
    from fissionmall.orders.events import OrderCreated

    before = await _count(db)
    for start in range(0, n_events, 500):
        async with db.tx() as s:
            for i in range(start, min(n_events, start + 500)):
                await events.publish(s, GroupJoined(group_id=i, activity_id=1, customer_id=i, order_id=10**9 + i))
                await events.publish(
                    s, OrderCreated(order_id=10**9 + i, customer_id=i, source="groupbuy", payable_fen=990)
                )
    async with db.tx() as s:  # keep only the recorder's deliveries
        await s.execute(
            delete(jobs.Job).where(jobs.Job.handler.not_in(["analytics.group_join", "analytics.order_created"]))
        )
    t0 = time.perf_counter()
    ran = await asyncio.gather(*(jobs.run_due(db, batch=50) for _ in range(workers)))
    elapsed = time.perf_counter() - t0
    written = await _count(db) - before
    async with db.tx() as s:  # every delivery again: nothing new
        await s.execute(update(jobs.Job).values(status="pending", done_at=None, due_at=clock.now()))
    await asyncio.gather(*(jobs.run_due(db, batch=50) for _ in range(workers)))
    again = await _count(db) - before - written
    return {
        "bench": "events_outbox",
        "backend": "postgres",
        "events": 2 * n_events,
        "workers": workers,
        "jobs_run": sum(ran),
        "seconds": round(elapsed, 3),
        "events_per_s": round(2 * n_events / elapsed, 1),
        "invariant_ok": written == 2 * n_events and again == 0,
    }


async def run(pg_url: str, n_events: int, clients: int, batch: int, workers: int) -> list[dict[str, Any]]:
    from fissionmall.analytics import router as events_router
    from fissionmall.app import create_app
    from fissionmall.core.db import get_db
    from fissionmall.core.migrate import upgrade
    from fissionmall.settings import Settings, use_settings

    name = f"fm_bench_events_{os.getpid()}"
    base = pg_url.rsplit("/", 1)[0]
    await _pg_exec(pg_url, f'CREATE DATABASE "{name}"')
    url = f"{base}/{name}"
    try:
        settings = Settings(env="dev", database_url=url, var_dir=Path(tempfile.mkdtemp(prefix="fmbench-events-")))
        await asyncio.to_thread(upgrade, url)
        events_router.PER_SENDER = events_router.PER_IP = 10**9  # one address sends it all
        app = create_app(settings, run_worker=False)
        async with app.router.lifespan_context(app):
            db = get_db()
            log(f"events: {n_events} page views through POST /events ({clients} devices, batches of {batch})")
            lines = [await bench_http(app, db, n_events, clients, batch)]
            log(f"events: {2 * n_events} outbox events recorded by {workers} job runners")
            lines.append(await bench_outbox(db, n_events, workers))
        return lines
    finally:
        use_settings(None)
        await _pg_exec(pg_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.events")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--events", type=int, default=None)
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--batch", type=int, default=20)
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--pg-url", default=PG_URL)
    args = ap.parse_args(argv)
    n = args.events or (2000 if args.quick else 20000)
    try:
        lines = asyncio.run(run(args.pg_url, n, args.clients, args.batch, args.workers))
    except OSError as exc:
        emit({"bench": "events", "backend": "postgres", "error": f"PostgreSQL unreachable: {exc}"})
        return 1
    for line in lines:
        emit(line)
    return 0 if all(line["invariant_ok"] for line in lines) else 1


if __name__ == "__main__":
    raise SystemExit(main())
