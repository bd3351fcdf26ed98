"""Statements and commits per step of one shopper's order cycle, in process (no HTTP server).

    B=pg N=100 .venv/bin/python -m bench.cycle          # PostgreSQL (+ Redis) on 127.0.0.1
    N=100 .venv/bin/python -m bench.cycle               # SQLite in a temp dir
    V=1 N=1 .venv/bin/python -m bench.cycle             # print every statement
    P=/tmp/p.txt .venv/bin/python -m bench.cycle        # and a pyinstrument profile (if installed)

The in-process client's own work is in the CPU figure: compare runs, not against `make bench`.
"""

from __future__ import annotations

import asyncio
import collections
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import event
from tests import helpers

from fissionmall.app import create_app
from fissionmall.core.db import get_db
from fissionmall.core.migrate import upgrade
from fissionmall.settings import Settings, use_settings

STEPS = ("preview", "create", "pay", "succeed", "jobs")


async def _database(backend: str, tmp: Path) -> tuple[str, str]:
    if backend == "sqlite":
        return f"sqlite+aiosqlite:///{tmp}/cycle.db", ""
    import asyncpg

    conn = await asyncpg.connect("postgresql://postgres@127.0.0.1:5432/postgres")
    try:
        await conn.execute("DROP DATABASE IF EXISTS fm_cycle WITH (FORCE)")
        await conn.execute("CREATE DATABASE fm_cycle")
    finally:
        await conn.close()
    return "postgresql+asyncpg://postgres@127.0.0.1:5432/fm_cycle", "redis://127.0.0.1:6379/0"


async def main() -> None:
    backend, n = os.environ.get("B", "sqlite"), int(os.environ.get("N", "100"))
    tmp = Path(tempfile.mkdtemp(prefix="fm-cycle-"))
    url, redis = await _database(backend, tmp)
    upgrade(url)
    settings = Settings(
        env="dev",
        database_url=url,
        redis_url=redis,
        redis_prefix="fmcycle:",
        secret_key="cycle-" + "k" * 40,
        var_dir=tmp / "var",
        embedded_worker=False,
        login_rate_per_minute=10**6,
        order_rate_per_minute=10**6,
    )
    use_settings(settings)
    app = create_app(settings, run_worker=False)
    counts: collections.Counter[tuple[str, str]] = collections.Counter()
    step = ["setup"]
    async with app.router.lifespan_context(app):
        db = get_db()

        @event.listens_for(db.engine.sync_engine, "before_cursor_execute")
        def _stmt(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
            counts[(step[0], "stmt")] += 1
            if os.environ.get("V") and step[0] != "setup":
                print(step[0], statement[:150].replace("\n", " "))

        @event.listens_for(db.engine.sync_engine, "commit")
        def _commit(conn: Any) -> None:
            counts[(step[0], "commit")] += 1

        transport = httpx.ASGITransport(app=app, client=("10.1.2.3", 5555))
        async with httpx.AsyncClient(transport=transport, base_url="http://cycle") as c:
            boss = await helpers.admin(c, db)
            sku = (await helpers.product(c, boss, stock=10**8))["skus"][0]["id"]
            me = await helpers.shopper(c)
            items = [{"sku_id": sku, "qty": 1}]

            async def cycle() -> None:
                step[0] = "preview"
                r = await c.post("/api/v1/checkout/preview", json={"items": items}, headers=me)
                assert r.status_code == 200, r.text
                step[0] = "create"
                r = await helpers.order(c, me, items)
                assert r.status_code == 201, r.text
                step[0] = "pay"
                r = await c.post(f"/api/v1/orders/{r.json()['id']}/pay", json={"method": "gateway"}, headers=me)
                assert r.status_code == 200, r.text
                step[0] = "succeed"
                r = await c.post(f"/api/v1/payments/sandbox/{r.json()['payment_id']}/succeed", headers=me)
                assert r.status_code == 200, r.text
                step[0] = "jobs"
                await helpers.run_jobs(db)

            for _ in range(5):
                await cycle()
            counts.clear()
            profiler = None
            if os.environ.get("P"):
                from pyinstrument import Profiler

                profiler = Profiler(async_mode="enabled")
                profiler.start()
            wall, cpu = time.perf_counter(), time.process_time()
            for _ in range(n):
                await cycle()
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            report = ""
            if profiler is not None:
                profiler.stop()
                report = profiler.output_text(unicode=False, color=False)
    if report:
        await asyncio.to_thread(Path(os.environ["P"]).write_text, report)
    print(f"{backend}: {n / wall:.1f} cycles/s, {cpu / n * 1000:.2f} ms CPU a cycle (client included)")
    for k in STEPS:
        print(f"  {k:8s} {counts[(k, 'stmt')] / n:5.1f} statements {counts[(k, 'commit')] / n:4.1f} commits")
    total_s = sum(counts[(k, "stmt")] for k in STEPS) / n
    total_c = sum(counts[(k, "commit")] for k in STEPS) / n
    print(f"  total    {total_s:5.1f} statements {total_c:4.1f} commits")


if __name__ == "__main__":
    asyncio.run(main())
