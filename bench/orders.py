"""Orders placed per second: shoppers looping preview → create → pay → sandbox succeed.

One fresh database per run (a SQLite file in a temp dir, or a `fm_bench_<pid>`
PostgreSQL database that is dropped afterwards), migrated by Alembic, an admin
created by the accounts service, a product with one SKU of huge stock created
through the admin API, and the app served by uvicorn exactly like the ceiling.
Afterwards the database must agree with the client: paid orders == completed
cycles, stock and sold moved by exactly the quantity ordered.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import threading
import time
from collections import Counter
from typing import Any

import httpx

from bench.common import Server, log, run_loadgen, server_stack, sql_counts, sql_per, workspace

STOCK = 100_000_000  # the most the admin API accepts; ~1e4 orders a minute never gets near it
PRICE_FEN = 1990
SHIPPING_FEN = 800  # Settings.shipping_fee_fen default; the preview must say goods + shipping
QTY = 1
ADMIN_USER, ADMIN_PASSWORD = "bench-admin", "bench-password-" + secrets.token_hex(4)


async def _pg_exec(admin_dsn: str, sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(admin_dsn, timeout=10)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def _create_admin(db_url: str) -> None:
    from fissionmall.accounts import service as accounts
    from fissionmall.core.db import Database

    db = Database(db_url)
    try:
        async with db.tx() as s:
            await accounts.create_admin(s, username=ADMIN_USER, password=ADMIN_PASSWORD, role="owner")
    finally:
        await db.dispose()


async def _db_facts(db_url: str, product_id: int) -> dict[str, Any]:
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(db_url)
    try:
        async with engine.connect() as c:
            orders = {r[0]: int(r[1]) for r in await c.execute(text("SELECT status, count(*) FROM orders GROUP BY 1"))}
            stock, sold = (
                await c.execute(text("SELECT sum(stock), sum(sold) FROM skus WHERE product_id = :p"), {"p": product_id})
            ).one()
            jobs = {
                f"{r[0]}:{r[1]}": int(r[2])
                for r in await c.execute(
                    text(
                        "SELECT CASE WHEN event_id IS NULL THEN 'timer' ELSE 'event' END, status, count(*) "
                        "FROM jobs GROUP BY 1, 2"
                    )
                )
            }
            events = {r[0]: int(r[1]) for r in await c.execute(text("SELECT type, count(*) FROM events GROUP BY 1"))}
    finally:
        await engine.dispose()
    return {"orders": orders, "stock": int(stock), "sold": int(sold), "jobs": jobs, "events": events}


async def _redis_cleanup(url: str, prefix: str) -> int:
    import redis.asyncio as aioredis

    r = aioredis.from_url(url)
    try:
        keys = [k async for k in r.scan_iter(match=prefix + "*", count=1000)]
        if keys:
            await r.delete(*keys)
        return len(keys)
    finally:
        await r.aclose()


class PgActivity(threading.Thread):
    """Samples pg_stat_activity of the bench database every 100 ms while the load runs.

    The averages say where the server's connections spend their time: running, waiting on a row lock
    (`Lock`), or "idle in transaction" (PostgreSQL waits for the app, e.g. a busy event loop).
    """

    def __init__(self, admin_dsn: str, db_name: str) -> None:
        super().__init__(daemon=True)
        self.admin_dsn, self.db_name = admin_dsn, db_name
        self.stop = threading.Event()
        self.samples = 0
        self.counts: Counter[str] = Counter()
        self.lock_queries: Counter[str] = Counter()
        self.error: str | None = None

    def run(self) -> None:
        try:
            asyncio.run(self._loop())
        except Exception as exc:
            self.error = f"{type(exc).__name__}: {exc}"

    async def _loop(self) -> None:
        import asyncpg

        conn = await asyncpg.connect(self.admin_dsn, timeout=10)
        try:
            while not self.stop.is_set():
                rows = await conn.fetch(
                    "SELECT state, wait_event_type, left(query, 60) AS q FROM pg_stat_activity "
                    "WHERE datname = $1 AND pid <> pg_backend_pid()",
                    self.db_name,
                )
                self.samples += 1
                for r in rows:
                    state = r["state"] or "?"
                    if state == "active" and r["wait_event_type"] == "Lock":
                        self.counts["waiting_on_lock"] += 1
                        self.lock_queries[r["q"]] += 1
                    elif state == "active":
                        self.counts["active"] += 1
                    elif state.startswith("idle in transaction"):
                        self.counts["idle_in_transaction"] += 1
                    else:
                        self.counts["idle"] += 1
                await asyncio.sleep(0.1)
        finally:
            await conn.close()

    def summary(self) -> dict[str, Any]:
        n = max(self.samples, 1)
        kinds = ("active", "waiting_on_lock", "idle_in_transaction", "idle")
        out: dict[str, Any] = {k: round(self.counts[k] / n, 1) for k in kinds}
        if self.lock_queries:
            out["lock_waits_on"] = self.lock_queries.most_common(1)[0][0]
        if self.error:
            out["error"] = self.error
        return out


def _setup_shop(base_url: str, n_skus: int) -> tuple[int, list[int]]:
    """Admin login and one product with `n_skus` SKUs of huge stock, through the admin API: (product, SKU ids)."""
    with httpx.Client(base_url=base_url, timeout=30) as c:
        r = c.post("/api/admin/v1/auth/login", json={"username": ADMIN_USER, "password": ADMIN_PASSWORD})
        r.raise_for_status()
        auth = {"Authorization": f"Bearer {r.json()['token']}"}
        body = {
            "title": "压测商品",
            "category": "压测",
            "skus": [{"name": f"规格{i}", "price_fen": PRICE_FEN, "stock": STOCK} for i in range(n_skus)],
        }
        r = c.post("/api/admin/v1/products", json=body, headers=auth)
        if r.status_code != 201:
            raise RuntimeError(f"creating the bench product failed: {r.status_code} {r.text}")
        p = r.json()
        if len(p["skus"]) != n_skus or any(k["stock"] != STOCK for k in p["skus"]):
            raise RuntimeError(f"the bench product came back as {p['skus']!r}")
        return int(p["id"]), [int(k["id"]) for k in p["skus"]]


def _wait_for_worker(db_url: str, product_id: int, timeout: float = 20.0) -> dict[str, Any]:
    """Give the embedded worker time to process every due event job (OrderPaid & co.) before we stop it."""
    deadline = time.monotonic() + timeout
    while True:
        facts = asyncio.run(_db_facts(db_url, product_id))
        if facts["jobs"].get("event:pending", 0) == 0 or time.monotonic() > deadline:
            return facts
        time.sleep(0.5)


def label(backend: str, workers: int = 1, skus: int = 1) -> str:
    """The run's name in the summary: `postgres`, `postgres-w2`, `postgres-skus32`, `postgres-w2-skus32`."""
    return backend + (f"-w{workers}" if workers > 1 else "") + (f"-skus{skus}" if skus > 1 else "")


def run_orders(backend: str, *, concurrency: int, warmup: float, duration: float, client: str,
               pg_url: str, redis_url: str, skus: int = 1, workers: int = 1) -> dict[str, Any]:  # fmt: skip
    from fissionmall.core.migrate import upgrade

    pid = os.getpid()
    # FISSIONMALL_SQL_STATS: each server process writes its statement / commit counters under var/.
    tmp, var, env = workspace(f"fmbench-{backend}-", FISSIONMALL_SQL_STATS="true")
    sql_dir = var / "sql-stats"
    admin_dsn = pg_url.replace("postgresql+asyncpg://", "postgresql://")
    db_name = f"fm_bench_{pid}"
    redis_prefix = f"fmbench:{pid}:"
    created_db = False
    server: Server | None = None
    activity: PgActivity | None = None
    try:
        if backend == "sqlite" and workers > 1:
            raise ValueError("SQLite runs one server process (the embedded setup)")
        if backend == "sqlite":
            db_url = f"sqlite+aiosqlite:///{(var / 'fissionmall.db').resolve()}"
        else:
            asyncio.run(_pg_exec(admin_dsn, f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)'))
            asyncio.run(_pg_exec(admin_dsn, f'CREATE DATABASE "{db_name}"'))
            created_db = True
            db_url = f"{pg_url.rsplit('/', 1)[0]}/{db_name}"
            env.update(
                FISSIONMALL_DATABASE_URL=db_url,
                FISSIONMALL_REDIS_URL=redis_url,
                FISSIONMALL_REDIS_PREFIX=redis_prefix,
            )
            if workers > 1:  # PostgreSQL allows 100 connections: each process keeps its pool within its share
                env.update(FISSIONMALL_DB_POOL_SIZE=str(40 // workers), FISSIONMALL_DB_MAX_OVERFLOW=str(40 // workers))
        log(f"{label(backend, workers, skus)}: migrating {db_url.split('@')[-1]}")
        upgrade(db_url)
        asyncio.run(_create_admin(db_url))
        server = Server("fissionmall.asgi:app", env=env, cwd=tmp, log_path=tmp / "server.log", workers=workers)
        server.start("/healthz")
        assert server.proc is not None
        name = label(backend, workers, skus)
        log(f"{name}: serving on {server.base_url} (pid {server.proc.pid}); setting up the shop")
        product_id, sku_ids = _setup_shop(server.base_url, skus)
        before = asyncio.run(_db_facts(db_url, product_id))
        if backend == "postgres":
            activity = PgActivity(admin_dsn, db_name)
            activity.start()
        result = run_loadgen(
            {
                "scenario": "orders",
                "port": server.port,
                "server_pid": server.proc.pid,
                "concurrency": concurrency,
                "warmup_s": warmup,
                "duration_s": duration,
                "client": client,
                "sku_ids": sku_ids,
                "qty": QTY,
                "expected_payable_fen": PRICE_FEN * QTY + SHIPPING_FEN,
                "tag": f"bench{pid}x",
                "sql_stats_dir": str(sql_dir),
            }
        )
        if activity is not None:
            activity.stop.set()
            activity.join(timeout=5)
        drained = _wait_for_worker(db_url, product_id)
        server.stop()
        sql_final = sql_counts(sql_dir)  # each process wrote its last counts on the way out
        after = asyncio.run(_db_facts(db_url, product_id))
        problems = server.log_problems()
    finally:
        if activity is not None:
            activity.stop.set()
        if server is not None:
            server.stop()
        if created_db:
            try:
                asyncio.run(_pg_exec(admin_dsn, f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)'))
            except Exception as exc:
                log(f"could not drop {db_name}: {exc}")
            try:
                asyncio.run(_redis_cleanup(redis_url, redis_prefix))
            except Exception as exc:
                log(f"could not clean Redis keys {redis_prefix}*: {exc}")
        shutil.rmtree(tmp, ignore_errors=True)

    paid = after["orders"].get("paid", 0)
    taken = before["stock"] - after["stock"]
    sold = after["sold"] - before["sold"]
    checks = {
        "paid_orders_in_db": paid,
        "cycles_counted_by_client": result["cycles_total"],
        "orders_in_db": sum(after["orders"].values()),
        "orders_created_by_client": result["orders_created"],
        "stock_taken": taken,
        "sold_added": sold,
        "qty_ordered_by_client": result["qty_ordered"],
        "event_jobs": {k.split(":", 1)[1]: v for k, v in after["jobs"].items() if k.startswith("event:")},
        "events": after["events"],
        "worker_drained": drained["jobs"].get("event:pending", 0) == 0,
    }
    invariant_ok = (
        paid == result["cycles_total"]
        and checks["orders_in_db"] == result["orders_created"]
        and taken == sold == result["qty_ordered"] == QTY * result["orders_created"]
        and after["jobs"].get("event:dead", 0) == 0
        and checks["worker_drained"]
    )
    if problems:
        log(f"{backend}: {len(problems)} problem line(s) in the server log, first: {problems[0][:300]}")
    start = result.get("sql_at_start") or {}
    sql_run = {k: v - start.get(k, 0) for k, v in sql_final.items()}
    # In the window: what the server did while the client counted orders (the worker's share lags a
    # little); whole run: from after the logins until the worker drained, over every completed cycle.
    sql_window = sql_per(result.get("sql_window"), result["cycles_in_window"])
    sql_whole = sql_per(sql_run, result["cycles_total"])
    return {
        "bench": "orders",
        "backend": backend,
        "label": label(backend, workers, skus),
        "workers": workers,
        "concurrency": concurrency,
        "duration_s": duration,
        "skus": skus,
        "orders_per_s": result["cycles_per_s"],
        "requests_per_s": result["requests_per_s"],
        "p50_ms": result["p50_ms"],
        "p99_ms": result["p99_ms"],
        "errors": result["errors"],
        "invariant_ok": invariant_ok,
        **({"error_samples": result["error_samples"]} if result["errors"] else {}),
        "server_cpu_ms_per_request": result["server_cpu_ms_per_request"],
        "server_cpu_ms_per_order": result["server_cpu_ms_per_cycle"],
        "statements_per_order": sql_whole["statements_per_order"] if sql_whole else None,
        "commits_per_order": sql_whole["commits_per_order"] if sql_whole else None,
        "sql": {"whole_run": sql_whole, "window": sql_window},
        "steps": result["steps"],
        "cpu_pct": result["cpu_pct"],
        "invariant": checks,
        **({"pg_connections_avg": activity.summary()} if activity is not None else {}),
        "server_log_problems": len(problems),
        "client": f"{client}/{result['client_loop']}",
        "server": server_stack(workers),
        "warmup_s": warmup,
    }
