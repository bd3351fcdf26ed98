"""Checkout-preview throughput: a 10-line cart priced under 6 active rules.

Three figures in one run, each a JSON line:
- `in_process`: the pure chain (`pricing.rules.price` with the coupon, and `best_coupon` choosing among the
  shopper's coupons), carts priced per second on one core, no I/O;
- `http`: `POST /api/v1/coupons/checkout-preview` (the full checkout preview: live promotions loaded, the
  shopper's coupons loaded, the best one chosen) against a uvicorn server on a fresh database, driven by a
  load-generator process, as bench/orders.py does;
- `hello`: the bare-ASGI ceiling (bench/hello.py) served and loaded the same way.

The 6 rules: tiered price, limited-time discount, full reduction by amount, full reduction by count, free
shipping over a threshold, and a coupon (each shopper holds one of the template; `best_coupon` also sees 2
more coupons in-process).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from bench.common import REPO, Server, emit, log, server_stack, workspace

LINES = 10
PRICE_FEN = 1990


def _rules_and_cart() -> tuple[list[Any], Any, list[Any]]:
    from fissionmall.pricing.rules import (
        CartLine,
        CouponSpec,
        FreeShipping,
        FullReduction,
        LimitedDiscount,
        PricingContext,
        ReductionTier,
        Scope,
        TieredPrice,
    )

    cart = [CartLine(i, i, i % 3, f"商品{i}", "默认", PRICE_FEN + 100 * i, 1 + i % 4) for i in range(1, LINES + 1)]
    coupon = CouponSpec(1, "满100减20", "amount", threshold_fen=10_000, amount_fen=2000)
    ctx = PricingContext(
        shipping_fee_fen=800,
        tiered=(TieredPrice(1, 1, ((1, 1990), (3, 1500))),),
        limited=(LimitedDiscount(2, 2, percent_bp=2000),),
        reductions=(
            FullReduction(
                3, "满100减10", (ReductionTier(10_000, amount_fen=1000), ReductionTier(30_000, amount_fen=4000))
            ),
            FullReduction(
                4, "满3件9折", (ReductionTier(3, percent_bp=1000),), "count", Scope("categories", frozenset({1}))
            ),
        ),
        free_shipping_rules=(FreeShipping(5, "满99包邮", 9900),),
        coupon=coupon,
    )
    more = [coupon, CouponSpec(2, "9折券", "percent", percent_bp=1000, max_discount_fen=3000),
            CouponSpec(3, "满500减100", "amount", threshold_fen=50_000, amount_fen=10_000)]  # fmt: skip
    return cart, ctx, more


def run_in_process(duration: float) -> dict[str, Any]:
    from dataclasses import replace

    from fissionmall.pricing.choice import best_coupon
    from fissionmall.pricing.rules import price

    cart, ctx, coupons = _rules_and_cart()
    out: dict[str, Any] = {"bench": "pricing", "mode": "in_process", "lines": LINES, "rules": 6}
    for name, fn in (
        ("price", lambda: price(cart, ctx)),
        ("best_coupon_of_3", lambda: best_coupon(cart, replace(ctx, coupon=None), coupons)),
    ):
        fn()
        n, t0 = 0, time.perf_counter()
        end = t0 + duration
        while time.perf_counter() < end:
            for _ in range(50):
                fn()
            n += 50
        wall = time.perf_counter() - t0
        out[f"{name}_carts_per_s"] = round(n / wall, 1)
        out[f"{name}_us_per_cart"] = round(wall / n * 1e6, 1)
    q = price(cart, ctx)
    out["payable_fen"] = q.payable_fen
    out["steps"] = [s.kind for s in q.steps]
    return out


# ---- over HTTP -------------------------------------------------------------------------------------


def _setup(base: str) -> dict[str, Any]:
    from bench.orders import ADMIN_PASSWORD, ADMIN_USER

    now = datetime.now(UTC)
    window = {"starts_at": (now - timedelta(hours=1)).isoformat(), "ends_at": (now + timedelta(days=1)).isoformat()}
    with httpx.Client(base_url=base, timeout=30) as c:
        r = c.post("/api/admin/v1/auth/login", json={"username": ADMIN_USER, "password": ADMIN_PASSWORD})
        r.raise_for_status()
        auth = {"Authorization": f"Bearer {r.json()['token']}"}
        skus = []
        for i in range(LINES):
            body = {"title": f"压测商品{i}", "category": f"压测{i % 3}",
                    "skus": [{"name": "默认", "price_fen": PRICE_FEN + 100 * i, "stock": 100_000_000}]}  # fmt: skip
            r = c.post("/api/admin/v1/products", json=body, headers=auth)
            r.raise_for_status()
            skus.append(r.json()["skus"][0]["id"])
        cat = c.get("/api/v1/categories").json()
        cat1 = next(x["id"] for x in cat if x["name"] == "压测1")
        promos = [
            {"kind": "tiered_price", "name": "阶梯价", "sku_id": skus[0],
             "price_tiers": [{"min_qty": 1, "unit_price_fen": 1990}, {"min_qty": 3, "unit_price_fen": 1500}]},
            {"kind": "limited_discount", "name": "限时8折", "items": [{"sku_id": skus[1], "percent_bp": 2000}]},
            {"kind": "full_reduction", "name": "满100减10",
             "tiers": [{"threshold": 10_000, "amount_fen": 1000}, {"threshold": 30_000, "amount_fen": 4000}]},
            {"kind": "full_reduction", "name": "满3件9折", "basis": "count", "scope": "categories", "scope_ids": [cat1],
             "tiers": [{"threshold": 3, "percent_bp": 1000}]},
            {"kind": "free_shipping", "name": "满99包邮", "threshold": 9900},
        ]  # fmt: skip
        for p in promos:
            r = c.post("/api/admin/v1/promotions", json={**p, **window}, headers=auth)
            if r.status_code != 201:
                raise RuntimeError(f"promotion: {r.status_code} {r.text}")
        r = c.post(
            "/api/admin/v1/coupons/templates",
            json={"name": "满100减20", "kind": "amount", "amount_fen": 2000, "threshold_fen": 10_000, "valid_days": 7},
            headers=auth,
        )
        r.raise_for_status()
        items = [{"sku_id": k, "qty": 1 + (i + 1) % 4} for i, k in enumerate(skus)]
        return {"items": items, "template_id": r.json()["id"]}


async def _load(cfg: dict[str, Any]) -> dict[str, Any]:
    from bench.common import ms, percentile
    from bench.loadgen import Stats, call, cpu_pct, login, make_conns, per, sample_cpu

    st = Stats()
    conns, close_all = make_conns(cfg)
    try:
        auths = list(await asyncio.gather(*(login(c, st, f"{cfg['tag']}{i}") for i, c in enumerate(conns))))
        if any(a is None for a in auths):
            raise SystemExit("some shoppers could not log in")
        for c, a in zip(conns, auths, strict=True):
            await call(c, st, "claim", "POST", f"/api/v1/coupons/{cfg['template_id']}/claim", 201, None, a)
        body, path = {"items": cfg["items"]}, "/api/v1/coupons/checkout-preview"
        first = await call(conns[0], st, "preview", "POST", path, 200, body, auths[0])
        expected = first and first["payable_fen"]
        coupon_ok = bool(first and first.get("coupon"))
        t0 = time.perf_counter()
        st.warm_end, st.end = t0 + cfg["warmup_s"], t0 + cfg["warmup_s"] + cfg["duration_s"]
        cpu0 = asyncio.ensure_future(sample_cpu([cfg["server_pid"]], st.warm_end, None))
        cpu1 = asyncio.ensure_future(sample_cpu([cfg["server_pid"]], st.end, None))

        async def loop(conn: Any, auth: dict[str, str]) -> None:
            while time.perf_counter() < st.end:
                t = time.perf_counter()
                q = await call(conn, st, "preview", "POST", path, 200, body, auth)
                if q is None:
                    continue
                if q.get("payable_fen") != expected:
                    st.error("preview", f"payable_fen {q.get('payable_fen')} != {expected}")
                    continue
                done = time.perf_counter()
                st.cycles_total += 1
                if st.in_window(done):
                    st.cycles_in_window += 1
                    st.cycle_lat.append(done - t)

        await asyncio.gather(*(loop(c, a) for c, a in zip(conns, auths, strict=True) if a))
        c0, c1 = await cpu0, await cpu1
        server_cpu_s = None if c0[0] is None or c1[0] is None else c1[0] - c0[0]
        wall = st.end - st.warm_end
        lat = sorted(st.cycle_lat)
        return {
            "carts_per_s": round(st.cycles_in_window / wall, 1),
            "p50_ms": ms(percentile(lat, 0.5)),
            "p99_ms": ms(percentile(lat, 0.99)),
            "errors": st.errors,
            "error_samples": st.error_samples,
            "payable_fen": expected,
            "coupon_chosen": coupon_ok,
            "server_cpu_ms_per_cart": per(server_cpu_s, st.cycles_in_window),
            "cpu_pct": cpu_pct(c0, c1, wall),
        }
    finally:
        await close_all()


def run_http(*, concurrency: int, warmup: float, duration: float) -> dict[str, Any]:
    from bench.orders import _create_admin
    from fissionmall.core.migrate import upgrade

    tmp, var, env = workspace("fmbench-pricing-")
    db_url = f"sqlite+aiosqlite:///{(var / 'fissionmall.db').resolve()}"
    server = Server("fissionmall.asgi:app", env=env, cwd=tmp, log_path=tmp / "server.log")
    try:
        upgrade(db_url)
        asyncio.run(_create_admin(db_url))
        server.start("/healthz")
        assert server.proc is not None
        log(f"pricing: serving on {server.base_url}; setting up 10 products, 5 promotions, 1 coupon template")
        shop = _setup(server.base_url)
        cfg = {**shop, "port": server.port, "server_pid": server.proc.pid, "concurrency": concurrency,
               "warmup_s": warmup, "duration_s": duration, "client": "raw", "tag": f"pbench{os.getpid()}x"}  # fmt: skip
        proc = subprocess.run(
            [sys.executable, "-m", "bench.pricing", "--loadgen", json.dumps(cfg)],
            cwd=REPO, capture_output=True, text=True, timeout=warmup + duration + 180,
        )  # fmt: skip
        if proc.returncode != 0:
            raise RuntimeError(f"load generator failed:\n{proc.stderr[-2000:]}")
        result = json.loads(proc.stdout.strip().splitlines()[-1])
        problems = server.log_problems()
    finally:
        server.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    return {"bench": "pricing", "mode": "http", "backend": "sqlite",
            "endpoint": "POST /api/v1/coupons/checkout-preview", "lines": LINES, "rules": 6,
            "concurrency": concurrency, "duration_s": duration, **result,
            "server_log_problems": len(problems), "server": server_stack()}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.pricing", description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="3 s runs after 1 s warm-up")
    ap.add_argument("--duration", type=float, default=10.0)
    ap.add_argument("--warmup", type=float, default=2.0)
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--loadgen", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.loadgen:
        import uvloop

        print(json.dumps(uvloop.run(_load(json.loads(args.loadgen)))), flush=True)
        return 0
    duration, warmup = (3.0, 1.0) if args.quick else (args.duration, args.warmup)
    failed = False
    inproc = run_in_process(duration)
    emit(inproc)
    try:
        http = run_http(concurrency=args.concurrency, warmup=warmup, duration=duration)
    except Exception as exc:  # report and go on to the ceiling
        http = {"bench": "pricing", "mode": "http", "error": str(exc)[:2000]}
        failed = True
    emit(http)
    from bench.__main__ import run_hello

    hello = run_hello(concurrency=args.concurrency, warmup=warmup, duration=duration, client="raw")
    emit(hello)
    failed = failed or bool(http.get("errors")) or not http.get("coupon_chosen")
    summary = {
        "bench": "pricing-summary",
        "in_process_carts_per_s": inproc["price_carts_per_s"],
        "http_carts_per_s": http.get("carts_per_s"),
        "hello_requests_per_s": hello["requests_per_s"],
        "http_over_hello": round(http["carts_per_s"] / hello["requests_per_s"], 4)
        if http.get("carts_per_s") and hello["requests_per_s"]
        else None,
    }
    emit(summary)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
