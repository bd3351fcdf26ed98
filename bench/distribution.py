"""Distribution: commission accrual throughput on PostgreSQL, and the share poster's render time.

accrual: a fresh `fm_bench_dist_<pid>` database (Alembic), a two-level chain (A ← B ← buyers), N paid
two-line orders written directly, and their `OrderPaid` events published through the outbox. Only the
`distribution.accrue` jobs are kept; `--workers` concurrent job runners (as worker processes would,
`FOR UPDATE SKIP LOCKED`) process them. Figures: events per second and commission rows written, checked
against the expected 4 per order (2 lines × 2 levels).

poster: `poster.render_poster` for a demo product picture (fresh render, PNG encode included), and a cached
`ensure_files` hit.

`.venv/bin/python -m bench.distribution [--quick] [--orders N] [--workers W] [--pg-url URL]`
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import statistics
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


async def _setup(db: Any, n_orders: int) -> int:
    from sqlalchemy import delete

    from fissionmall.accounts.models import Customer
    from fissionmall.catalog import service as catalog
    from fissionmall.catalog.schemas import ProductCreate
    from fissionmall.core import clock, jobs
    from fissionmall.distribution import binding, config, distributors
    from fissionmall.distribution.schemas import ConfigUpdate
    from fissionmall.orders.models import Order, OrderLine

    now = clock.now()
    async with db.tx() as s:
        await config.save_config(s, data=ConfigUpdate(enabled=True), admin_id=None)
        people = [
            Customer(openid=f"bench-{i}", nickname=f"买家{i}", created_at=now, last_login_at=now) for i in range(52)
        ]
        s.add_all(people)
        await s.flush()
        p = await catalog.create_product(
            s,
            data=ProductCreate.model_validate(
                {
                    "title": "压测商品",
                    "skus": [
                        {"name": "a", "price_fen": 9900, "stock": 10**6},
                        {"name": "b", "price_fen": 4900, "stock": 10**6},
                    ],
                }
            ),
        )
        skus = [k.id for k in p.skus]
        product_id = p.id
        ids = [c.id for c in people]
        a, b, buyers = ids[0], ids[1], ids[2:]
        for c in (a, b):
            await distributors.apply(s, customer_id=c)
    async with db.tx() as s:
        code_a = (await distributors.get_distributor(s, customer_id=a)).share_code  # type: ignore[union-attr]
        code_b = (await distributors.get_distributor(s, customer_id=b)).share_code  # type: ignore[union-attr]
        await binding.bind(s, customer_id=b, ref=code_a, origin="share_link")
        for c in buyers:
            await binding.bind(s, customer_id=c, ref=code_b, origin="share_link")
    for start in range(0, n_orders, 200):
        async with db.tx() as s:
            for i in range(start, min(n_orders, start + 200)):
                buyer = buyers[i % len(buyers)]
                o = Order(
                    no=f"B{i:012d}",
                    customer_id=buyer,
                    status="paid",
                    source="normal",
                    attribution={},
                    goods_fen=14800,
                    payable_fen=15600,
                    paid_fen=15600,
                    shipping_fen=800,
                    created_at=now,
                    pay_deadline=now,
                    paid_at=now,
                )
                s.add(o)
                await s.flush()
                lines = [
                    OrderLine(
                        order_id=o.id,
                        product_id=product_id,
                        sku_id=skus[0],
                        title="压测商品",
                        sku_name="a",
                        unit_price_fen=9900,
                        qty=1,
                        subtotal_fen=9900,
                        discount_fen=0,
                        shipping_fen=800,
                        payable_fen=10700,
                    ),
                    OrderLine(
                        order_id=o.id,
                        product_id=product_id,
                        sku_id=skus[1],
                        title="压测商品",
                        sku_name="b",
                        unit_price_fen=4900,
                        qty=1,
                        subtotal_fen=4900,
                        discount_fen=0,
                        shipping_fen=0,
                        payable_fen=4900,
                    ),
                ]
                s.add_all(lines)
                await s.flush()
                await jobs.publish(
                    s,
                    "OrderPaid",
                    {
                        "order_id": o.id,
                        "customer_id": buyer,
                        "source": "normal",
                        "payment_id": 0,
                        "paid_fen": 15600,
                        "attribution": {},
                        "lines": [
                            {
                                "line_id": ln.id,
                                "sku_id": ln.sku_id,
                                "qty": 1,
                                "goods_payable_fen": ln.payable_fen - ln.shipping_fen,
                            }
                            for ln in lines
                        ],
                    },
                )
    async with db.tx() as s:  # keep only the handler under test
        await s.execute(delete(jobs.Job).where(jobs.Job.handler != "distribution.accrue"))
    return n_orders


async def bench_accrual(pg_url: str, n_orders: int, workers: int) -> dict[str, Any]:
    from sqlalchemy import func, select

    from fissionmall.core import jobs
    from fissionmall.core.db import Database
    from fissionmall.core.migrate import upgrade
    from fissionmall.distribution.models import Commission
    from fissionmall.models import load_handlers
    from fissionmall.settings import Settings, use_settings

    name = f"fm_bench_dist_{os.getpid()}"
    base = pg_url.rsplit("/", 1)[0]
    await _pg_exec(pg_url, f'CREATE DATABASE "{name}"')
    url = f"{base}/{name}"
    db = Database(url)
    try:
        use_settings(Settings(env="dev", database_url=url, var_dir=Path(tempfile.mkdtemp(prefix="fmbench-dist-"))))
        await asyncio.to_thread(upgrade, url)
        load_handlers()
        log(f"distribution: writing {n_orders} paid orders and their OrderPaid events")
        await _setup(db, n_orders)
        t0 = time.perf_counter()
        ran = await asyncio.gather(*(jobs.run_due(db, batch=20) for _ in range(workers)))
        elapsed = time.perf_counter() - t0
        async with db.read() as s:
            written = int(
                await s.scalar(select(func.count()).select_from(Commission).where(Commission.kind == "accrue")) or 0
            )
            dead = int(
                await s.scalar(
                    select(func.count())
                    .select_from(jobs.Job)
                    .where(jobs.Job.handler == "distribution.accrue", jobs.Job.status != "done")
                )
                or 0
            )
        return {
            "bench": "distribution_accrual",
            "backend": "postgres",
            "orders": n_orders,
            "workers": workers,
            "jobs_run": sum(ran),
            "seconds": round(elapsed, 3),
            "events_per_s": round(n_orders / elapsed, 1),
            "commissions_written": written,
            "commissions_per_s": round(written / elapsed, 1),
            "invariant_ok": written == n_orders * 4 and dead == 0,
        }
    finally:
        await db.dispose()
        use_settings(None)
        await _pg_exec(pg_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def bench_poster(rounds: int) -> dict[str, Any]:
    from fissionmall.demo.images import render_product_image
    from fissionmall.distribution import poster

    tmp = Path(tempfile.mkdtemp(prefix="fmbench-poster-"))
    pic = tmp / "p.png"
    render_product_image(pic, category="生鲜水果")
    times = []
    for i in range(rounds):
        spec = poster.PosterSpec(
            f"http://shop.test/shop/?ref=ABCDEFGH#/p/{i}", "赣南脐橙 10斤装 当季现摘", 4990, pic, "微信用户"
        )
        t0 = time.perf_counter()
        img = poster.render_poster(spec)
        img.save(io.BytesIO(), format="PNG", optimize=True)
        times.append(time.perf_counter() - t0)
    spec = poster.PosterSpec("http://shop.test/shop/?ref=ABCDEFGH#/p/1", "赣南脐橙", 4990, pic, "微信用户")
    poster.ensure_files(spec, tmp / "cache")
    t0 = time.perf_counter()
    for _ in range(100):
        poster.ensure_files(spec, tmp / "cache")
    cached = (time.perf_counter() - t0) / 100
    return {
        "bench": "distribution_poster",
        "renders": rounds,
        "render_ms_median": round(statistics.median(times) * 1000, 1),
        "render_ms_max": round(max(times) * 1000, 1),
        "cached_hit_ms": round(cached * 1000, 3),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.distribution")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--orders", type=int, default=None)
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--pg-url", default=PG_URL)
    args = ap.parse_args(argv)
    n = args.orders or (300 if args.quick else 2000)
    ok = True
    try:
        line = asyncio.run(bench_accrual(args.pg_url, n, args.workers))
        emit(line)
        ok = ok and bool(line["invariant_ok"])
    except OSError as exc:
        emit({"bench": "distribution_accrual", "backend": "postgres", "error": f"PostgreSQL unreachable: {exc}"})
        ok = False
    emit(bench_poster(5 if args.quick else 20))
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
