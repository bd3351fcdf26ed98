"""Flash-sale attempts per second: `python -m bench.seckill [--quick] [--only hello,redis,embedded,baseline]`.

In one run, each served by one uvicorn process with the flags of `fissionmall serve` (bench.common):
  (a) hello     the bare ASGI ceiling (bench/hello.py)
  (b) redis     our production path: PostgreSQL + Redis, auth → risk gate → one batched Lua call → 202
  (b+) redis-fast  the same, with seckill.fast.FastAttempts in front of the app (the wiring proposed to
                the platform: the attempt skips FastAPI's routing, dependencies and middleware)
  (c) embedded  our embedded path: SQLite, conditional updates, the order created in the request
  (d) baseline  bench/seckill_baseline.py: one PostgreSQL transaction with SELECT … FOR UPDATE per attempt
Each of b, c, d runs twice: `win` (a pool far larger than the run: every attempt wins) and `soldout`
(a pool of 100: after the first 100, every attempt is refused SOLD_OUT). Shoppers are `--concurrency`
keep-alive connections (default 256), each logged in once; a path token is signed for every attempt by
the load generator itself (it knows the bench server's secret), so the figure is attempts, not tokens.
The job worker and the stream consumer do not run during the measurement (the path is what is measured;
the stream is checked against the client afterwards). Prints one JSON line per run and a summary.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from bench.common import (
    REPO,
    Server,
    emit,
    log,
    machine_cpu_seconds,
    ms,
    percentile,
    proc_cpu_seconds,
    server_stack,
    workspace,
)
from bench.orders import ADMIN_PASSWORD, ADMIN_USER

ADDRESS = {"name": "张三", "phone": "13800138000", "region": "上海市 浦东新区", "detail": "世纪大道 100 号"}
VERY_HIGH = 10**9
WIN_POOL = 10_000_000
SOLDOUT_POOL = 100


# ---- the load generator (its own process) -----------------------------------------------------------


def _jwt_sub(token: str) -> int:
    payload = token.split(".")[1]
    return int(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["sub"])


async def _loadgen(cfg: dict[str, Any]) -> dict[str, Any]:
    from bench.loadgen import RawConn, dumps
    from fissionmall.risk.rules import sign_token

    n, port = int(cfg["concurrency"]), int(cfg["port"])
    conns = [RawConn("127.0.0.1", port) for _ in range(n)]
    users: list[tuple[int, dict[str, str]]] = []
    if cfg["mode"] == "app":
        for i, c in enumerate(conns):
            st, body = await c.request("POST", "/api/v1/auth/wechat-login", dumps({"code": f"{cfg['tag']}{i}"}))
            if st != 200:
                raise SystemExit(f"login failed: {st} {body[:200]!r}")
            tok = json.loads(body)["token"]
            users.append((_jwt_sub(tok), {"Authorization": f"Bearer {tok}"}))
    else:
        users = [(i + 1, {}) for i in range(n)]
    item, secret = int(cfg["item_id"]), cfg.get("secret", "")
    path = f"/api/v1/seckill/items/{item}/attempts" if cfg["mode"] == "app" else f"/items/{item}/attempts"
    warm, dur = float(cfg["warmup_s"]), float(cfg["duration_s"])
    t0 = time.perf_counter()
    warm_end, end = t0 + warm, t0 + warm + dur
    lat: list[float] = []
    counts = {"won": 0, "sold_out": 0, "won_total": 0, "errors": 0, "in_window": 0}
    samples: list[str] = []
    expires = int(time.time()) + 3600  # signed by the client: only the server's clock judges it (+1 h)

    async def shopper(i: int) -> None:
        c = conns[i]
        uid, headers = users[i]
        while time.perf_counter() < end:
            if cfg["mode"] == "app":
                tok = sign_token(secret, item_id=item, customer_id=uid, expires=expires)
                body = dumps({"qty": 1, "token": tok, "address": ADDRESS})
            else:
                body = dumps({"user_id": uid})
            t = time.perf_counter()
            try:
                st, content = await c.request("POST", path, body, headers)
            except Exception as exc:
                counts["errors"] += 1
                if len(samples) < 8:
                    samples.append(f"{type(exc).__name__}: {exc}")
                await asyncio.sleep(0.05)
                continue
            done = time.perf_counter()
            if st == 202:
                counts["won_total"] += 1
                kind = "won"
            elif st == 409 and b"SOLD_OUT" in content:
                kind = "sold_out"
            else:
                counts["errors"] += 1
                if len(samples) < 8:
                    samples.append(f"HTTP {st} {content[:200].decode(errors='replace')}")
                continue
            if warm_end <= done < end:
                counts[kind] += 1
                counts["in_window"] += 1
                lat.append(done - t)

    async def cpu_at(at: float) -> tuple[float | None, float, Any]:
        await asyncio.sleep(max(0.0, at - time.perf_counter()))
        return proc_cpu_seconds(int(cfg["server_pid"])), time.process_time(), machine_cpu_seconds()

    c0 = asyncio.ensure_future(cpu_at(warm_end))
    c1 = asyncio.ensure_future(cpu_at(end))
    await asyncio.gather(*(shopper(i) for i in range(n)))
    (s0, k0, m0), (s1, k1, m1) = await c0, await c1
    for c in conns:
        c.close()
    lat.sort()
    cpu = {
        "server": None if s0 is None or s1 is None else round((s1 - s0) / dur * 100, 1),
        "client": round((k1 - k0) / dur * 100, 1),
        "machine": None if m0 is None or m1 is None else round((m1[0] - m0[0]) / dur * 100, 1),
    }
    return {
        "attempts_per_s": round(counts["in_window"] / dur, 1),
        "won_per_s": round(counts["won"] / dur, 1),
        "sold_out_per_s": round(counts["sold_out"] / dur, 1),
        "p50_ms": ms(percentile(lat, 0.5)),
        "p99_ms": ms(percentile(lat, 0.99)),
        "errors": counts["errors"],
        "error_samples": samples,
        "won_total": counts["won_total"],
        "cpu_pct": cpu,
        "server_cpu_ms_per_attempt": None
        if s0 is None or s1 is None or not counts["in_window"]
        else round((s1 - s0) * 1000 / counts["in_window"], 3),
    }


def _run_loadgen(cfg: dict[str, Any]) -> dict[str, Any]:
    budget = float(cfg["warmup_s"]) + float(cfg["duration_s"]) + 120
    out = subprocess.run(
        [sys.executable, "-m", "bench.seckill", "--loadgen", json.dumps(cfg)],
        cwd=REPO,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=budget,
        check=False,
    )
    if out.returncode != 0:
        raise RuntimeError(f"load generator failed ({out.returncode}): {out.stderr.decode()[-2000:]}")
    result: dict[str, Any] = json.loads(out.stdout.decode().strip().splitlines()[-1])
    return result


# ---- (b) and (c): our app ---------------------------------------------------------------------------


async def _pg_exec(admin_dsn: str, sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(admin_dsn, timeout=10)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def _setup_sale(base: str) -> tuple[int, int, dict[str, str]]:
    """Product, a session with a huge-pool item and a 100-unit item, loose risk limits: (win, soldout, auth)."""
    with httpx.Client(base_url=base, timeout=60) as c:
        r = c.post("/api/admin/v1/auth/login", json={"username": ADMIN_USER, "password": ADMIN_PASSWORD})
        r.raise_for_status()
        auth = {"Authorization": f"Bearer {r.json()['token']}"}
        body = {
            "title": "压测秒杀",
            "category": "压测",
            "skus": [
                {"name": "大池", "price_fen": 5000, "stock": 100_000_000},
                {"name": "小池", "price_fen": 5000, "stock": 1000},
            ],
        }
        r = c.post("/api/admin/v1/products", json=body, headers=auth)
        r.raise_for_status()
        skus = [k["id"] for k in r.json()["skus"]]
        now = datetime.now(UTC)
        r = c.post(
            "/api/admin/v1/seckill/sessions",
            json={
                "title": "bench",
                "starts_at": (now - timedelta(minutes=1)).isoformat(),
                "ends_at": (now + timedelta(hours=2)).isoformat(),
                "items": [
                    {"sku_id": skus[0], "price_fen": 990, "stock": WIN_POOL, "per_user_limit": 999},
                    {"sku_id": skus[1], "price_fen": 990, "stock": SOLDOUT_POOL, "per_user_limit": 999},
                ],
            },
            headers=auth,
        )
        if r.status_code != 201:
            raise RuntimeError(f"creating the session failed: {r.status_code} {r.text}")
        items = [i["id"] for i in r.json()["items"]]
        limits = {
            "window_seconds": 10,
            "per_user": VERY_HIGH,
            "per_ip": VERY_HIGH,
            "per_device": VERY_HIGH,
            "captcha_after": VERY_HIGH,
            "token_lead_seconds": 60,
        }
        c.put("/api/admin/v1/risk/limits", json=limits, headers=auth).raise_for_status()
        return items[0], items[1], auth


async def _redis_facts(url: str, prefix: str, items: list[int]) -> dict[str, Any]:
    import redis.asyncio as aioredis

    r = aioredis.from_url(url, decode_responses=True)
    try:
        left = {i: int(await r.hget(f"{prefix}sk:i:{i}", "left") or -1) for i in items}
        return {"left": left, "stream_len": int(await r.xlen(f"{prefix}sk:stream"))}
    finally:
        await r.aclose()


async def _redis_cleanup(url: str, prefix: str) -> None:
    import redis.asyncio as aioredis

    r = aioredis.from_url(url)
    try:
        keys = [k async for k in r.scan_iter(match=prefix + "*", count=1000)]
        for i in range(0, len(keys), 1000):
            await r.delete(*keys[i : i + 1000])
    finally:
        await r.aclose()


async def _sql_facts(db_url: str, items: list[int]) -> dict[str, Any]:
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    e = create_async_engine(db_url)
    try:
        async with e.connect() as c:
            sold = {int(i): int(s) for i, s in await c.execute(text("SELECT id, sold FROM seckill_items"))}
            orders = int(await c.scalar(text("SELECT count(*) FROM orders WHERE source = 'seckill'")) or 0)
    finally:
        await e.dispose()
    return {"sold": {i: sold.get(i) for i in items}, "orders": orders}


def run_app(backend: str, args: argparse.Namespace) -> list[dict[str, Any]]:
    from bench.orders import _create_admin
    from fissionmall.core.migrate import upgrade

    pid = os.getpid()
    tmp, var, env = workspace(f"fmbench-seckill-{backend}-", embedded_worker=False)
    secret = env["FISSIONMALL_SECRET_KEY"]  # the load generator signs path tokens with it
    admin_dsn = args.pg_url.replace("postgresql+asyncpg://", "postgresql://")
    db_name, prefix = f"fm_bench_sk_{pid}", f"fmbench:sk:{pid}:"
    server: Server | None = None
    lines: list[dict[str, Any]] = []
    try:
        if backend.startswith("embedded"):
            db_url = f"sqlite+aiosqlite:///{(var / 'fissionmall.db').resolve()}"
        else:
            asyncio.run(_pg_exec(admin_dsn, f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)'))
            asyncio.run(_pg_exec(admin_dsn, f'CREATE DATABASE "{db_name}"'))
            db_url = f"{args.pg_url.rsplit('/', 1)[0]}/{db_name}"
            env.update(
                FISSIONMALL_DATABASE_URL=db_url, FISSIONMALL_REDIS_URL=args.redis_url, FISSIONMALL_REDIS_PREFIX=prefix
            )
        upgrade(db_url)
        asyncio.run(_create_admin(db_url))
        app = "bench.seckill_fast_app:app" if backend.endswith("-fast") else "fissionmall.asgi:app"
        server = Server(app, env=env, cwd=tmp, log_path=tmp / "server.log")
        server.start("/healthz")
        assert server.proc is not None
        win_item, soldout_item, _ = _setup_sale(server.base_url)
        log(f"seckill {backend}: serving on {server.base_url}; items win={win_item} soldout={soldout_item}")
        for run, item, pool in (("win", win_item, WIN_POOL), ("soldout", soldout_item, SOLDOUT_POOL)):
            res = _run_loadgen(
                {
                    "mode": "app",
                    "port": server.port,
                    "server_pid": server.proc.pid,
                    "concurrency": args.concurrency,
                    "warmup_s": args.warmup,
                    "duration_s": args.duration,
                    "item_id": item,
                    "secret": secret,
                    "tag": f"sk{pid}{run}",
                }
            )
            sql = asyncio.run(_sql_facts(db_url, [item]))
            if backend.startswith("redis"):
                rf = asyncio.run(_redis_facts(args.redis_url, prefix, [item]))
                taken = pool - rf["left"][item]
                inv = {"won_by_client": res["won_total"], "taken_in_redis": taken, "stream_len_before": None}
                ok = taken == res["won_total"] and taken <= pool
            else:
                taken = sql["sold"][item]
                inv = {"won_by_client": res["won_total"], "sold_in_db": taken, "orders_in_db": sql["orders"]}
                ok = taken == res["won_total"] and taken <= pool
            lines.append(_line(f"{backend}", run, args, res, ok, inv, pool))
            emit(lines[-1])
        problems = server.log_problems()
        if problems:
            log(f"seckill {backend}: {len(problems)} problem line(s) in the server log: {problems[0][:300]}")
    finally:
        if server is not None:
            server.stop()
        if backend.startswith("redis"):
            try:
                asyncio.run(_pg_exec(admin_dsn, f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)'))
                asyncio.run(_redis_cleanup(args.redis_url, prefix))
            except Exception as exc:
                log(f"cleanup failed: {exc}")
        shutil.rmtree(tmp, ignore_errors=True)
    return lines


def _line(
    backend: str, run: str, args: argparse.Namespace, res: dict[str, Any], ok: bool, inv: dict[str, Any], pool: int
) -> dict[str, Any]:
    return {
        "bench": "seckill",
        "path": backend,
        "run": run,
        "pool": pool,
        "concurrency": args.concurrency,
        "duration_s": args.duration,
        "attempts_per_s": res["attempts_per_s"],
        "won_per_s": res["won_per_s"],
        "sold_out_per_s": res["sold_out_per_s"],
        "p50_ms": res["p50_ms"],
        "p99_ms": res["p99_ms"],
        "errors": res["errors"],
        **({"error_samples": res["error_samples"]} if res["errors"] else {}),
        "invariant_ok": ok,
        "invariant": inv,
        "server_cpu_ms_per_attempt": res["server_cpu_ms_per_attempt"],
        "cpu_pct": res["cpu_pct"],
        "server": server_stack(),
    }


# ---- (d) the SELECT … FOR UPDATE baseline -------------------------------------------------------------


def run_baseline(args: argparse.Namespace) -> list[dict[str, Any]]:
    from bench.seckill_baseline import SCHEMA

    pid = os.getpid()
    admin_dsn = args.pg_url.replace("postgresql+asyncpg://", "postgresql://")
    db_name = f"fm_bench_bl_{pid}"
    db_url = f"{args.pg_url.rsplit('/', 1)[0]}/{db_name}"
    dsn = db_url.replace("postgresql+asyncpg://", "postgresql://")
    tmp = Path(tempfile.mkdtemp(prefix="fmbench-baseline-"))
    server: Server | None = None
    lines: list[dict[str, Any]] = []
    try:
        asyncio.run(_pg_exec(admin_dsn, f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)'))
        asyncio.run(_pg_exec(admin_dsn, f'CREATE DATABASE "{db_name}"'))
        for sql in SCHEMA:
            asyncio.run(_pg_exec(dsn, sql))
        asyncio.run(
            _pg_exec(dsn, f"INSERT INTO bl_items VALUES (1, {WIN_POOL}, {VERY_HIGH}), (2, {SOLDOUT_POOL}, {VERY_HIGH})")
        )
        server = Server(
            "bench.seckill_baseline:app", env={"BENCH_BASELINE_DB_URL": db_url}, cwd=tmp, log_path=tmp / "server.log"
        )
        server.start("/healthz")
        assert server.proc is not None
        for run, item, pool in (("win", 1, WIN_POOL), ("soldout", 2, SOLDOUT_POOL)):
            res = _run_loadgen(
                {
                    "mode": "baseline",
                    "port": server.port,
                    "server_pid": server.proc.pid,
                    "concurrency": args.concurrency,
                    "warmup_s": args.warmup,
                    "duration_s": args.duration,
                    "item_id": item,
                }
            )
            facts = asyncio.run(_baseline_facts(dsn, item))
            taken = pool - facts["stock"]
            inv = {"won_by_client": res["won_total"], "taken_in_db": taken, "orders_in_db": facts["orders"]}
            ok = taken == res["won_total"] == facts["orders"] and taken <= pool
            lines.append(_line("baseline", run, args, res, ok, inv, pool))
            emit(lines[-1])
    finally:
        if server is not None:
            server.stop()
        try:
            asyncio.run(_pg_exec(admin_dsn, f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)'))
        except Exception as exc:
            log(f"could not drop {db_name}: {exc}")
        shutil.rmtree(tmp, ignore_errors=True)
    return lines


async def _baseline_facts(dsn: str, item: int) -> dict[str, int]:
    import asyncpg

    c = await asyncpg.connect(dsn)
    try:
        stock = await c.fetchval("SELECT stock FROM bl_items WHERE id = $1", item)
        orders = await c.fetchval("SELECT count(*) FROM bl_orders WHERE item_id = $1", item)
    finally:
        await c.close()
    return {"stock": int(stock), "orders": int(orders)}


# ---- main -----------------------------------------------------------------------------------------------


def _ratio(a: float | None, b: float | None) -> float | None:
    return None if not a or not b else round(a / b, 3)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["--loadgen"]:
        cfg = json.loads(argv[1])
        try:
            import uvloop

            result = uvloop.run(_loadgen(cfg))
        except ImportError:
            result = asyncio.run(_loadgen(cfg))
        print(json.dumps(result), flush=True)
        return 0
    p = argparse.ArgumentParser(prog="python -m bench.seckill")
    p.add_argument("--quick", action="store_true", help="3 s runs after 1 s warm-up")
    p.add_argument("--duration", type=float, default=10.0)
    p.add_argument("--warmup", type=float, default=2.0)
    p.add_argument("--concurrency", type=int, default=256)
    p.add_argument("--only", default="hello,redis,redis-fast,embedded,baseline")
    p.add_argument(
        "--pg-url",
        default=os.environ.get("FISSIONMALL_BENCH_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"),
    )
    p.add_argument("--redis-url", default=os.environ.get("FISSIONMALL_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0"))
    args = p.parse_args(argv)
    if args.quick:
        args.duration, args.warmup = 3.0, 1.0
    only = set(args.only.split(","))
    lines: list[dict[str, Any]] = []
    failed: list[str] = []
    if "hello" in only:
        from bench.__main__ import run_hello

        h = run_hello(concurrency=args.concurrency, warmup=args.warmup, duration=args.duration, client="raw")
        emit(h)
        lines.append(h)
    for name, fn in (
        ("redis", lambda: run_app("redis", args)),
        ("redis-fast", lambda: run_app("redis-fast", args)),
        ("embedded", lambda: run_app("embedded", args)),
        ("baseline", lambda: run_baseline(args)),
    ):
        if name not in only:
            continue
        try:
            lines += fn()
        except Exception as exc:
            log(f"seckill {name} could not run: {exc}")
            failed.append(name)

    def rate(path: str, run: str = "win") -> float | None:
        x = next((ln for ln in lines if ln.get("path") == path and ln.get("run") == run), None)
        return x["attempts_per_s"] if x else None

    hello = next((ln["requests_per_s"] for ln in lines if ln.get("bench") == "hello"), None)
    summ = {
        "bench": "seckill-summary",
        "hello_requests_per_s": hello,
        "attempts_per_s": {f"{x['path']}/{x['run']}": x["attempts_per_s"] for x in lines if x.get("path")},
        "p99_ms": {f"{x['path']}/{x['run']}": x["p99_ms"] for x in lines if x.get("path")},
        "ratios": {
            "b_over_a": _ratio(rate("redis"), hello),
            "bfast_over_a": _ratio(rate("redis-fast"), hello),
            "bfast_over_d": _ratio(rate("redis-fast"), rate("baseline")),
            "b_over_d": _ratio(rate("redis"), rate("baseline")),
            "c_over_d": _ratio(rate("embedded"), rate("baseline")),
            "b_over_a_soldout": _ratio(rate("redis", "soldout"), hello),
            "b_over_d_soldout": _ratio(rate("redis", "soldout"), rate("baseline", "soldout")),
        },
        "targets": {"b_over_d": 15, "b_over_a": 0.4, "p99_ms_at_256": 50},
        "failed": failed,
        "loadavg_after": os.getloadavg(),
    }
    emit(summ)
    bad = failed or any(x.get("errors") or x.get("invariant_ok") is False for x in lines)
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
