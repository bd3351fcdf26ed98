"""Flash-sale attempts per second: `python -m bench.seckill [--quick] [--workers 1,2] [--only …]`.

In one run, each served by uvicorn with the flags of `fissionmall serve` (bench.common), at each worker
count of `--workers` (the embedded path runs with one: SQLite and no Redis is a one-process setup):
  (a) hello     the bare ASGI ceiling (bench/hello.py)
  (b) redis     our production path: PostgreSQL + Redis, fissionmall.asgi:app (the lean ASGI lane for
                attempts in front of FastAPI): auth → risk gate → one batched Lua call → 202
      redis-norisk  the same with the one risk layer off (FISSIONMALL_RISK_ENABLED=false), in the same run:
                the summary's `risk_on_over_off` is what the layer costs the attempt (issue 19: ≥ 0.9)
  (c) embedded  our embedded path: SQLite, conditional updates, the order created in the request
  (d) baseline  bench/seckill_baseline.py: one PostgreSQL transaction with SELECT … FOR UPDATE per attempt
Each of b, c, d runs twice: `win` (a pool far larger than the run: every attempt wins) and `soldout`
(a pool of 100: after the first 100, every attempt is refused SOLD_OUT). `--concurrency` keep-alive
connections (default 256) carry the attempts of twice as many logged-in shoppers; every attempt carries
its own single-use path token, signed beforehand by the bench (it knows the bench server's secret), so
the figure is attempts, not tokens.

The load generator is wrk (`--client wrk`, the default when Debian's wrk is installed; bench/wrk.py says
why) or our Python client (`--client python`, bench/loadgen.py's raw connections). The job worker and the
stream consumer do not run during the measurement (the path is what is measured; the stream is checked
against the client afterwards). Prints one JSON line per run and a summary.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from bench import wrk
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
        # the whole server tree: with several processes the pid is their supervisor
        server = wrk.tree_cpu_seconds(wrk.tree_pids(int(cfg["server_pid"])))
        return server, time.process_time(), machine_cpu_seconds()

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


def _python_client(server: Server, args: argparse.Namespace, mode: str, item: int, **extra: str) -> dict[str, Any]:
    assert server.proc is not None
    cfg = {
        "mode": mode,
        "port": server.port,
        "server_pid": server.proc.pid,
        "concurrency": args.concurrency,
        "warmup_s": args.warmup,
        "duration_s": args.duration,
        "item_id": item,
        **extra,
    }
    res = _run_loadgen(cfg)
    res["unread_bound"] = 0  # it reads every answer before it stops
    return res


# ---- the same load from wrk ------------------------------------------------------------------------------


def _login_all(base: str, n: int, tag: str) -> list[tuple[int, str]]:
    """n shoppers logged in: (customer id, bearer token)."""

    async def go() -> list[tuple[int, str]]:
        sem = asyncio.Semaphore(16)
        async with httpx.AsyncClient(base_url=base, timeout=60) as c:

            async def one(i: int) -> tuple[int, str]:
                async with sem:
                    r = await c.post("/api/v1/auth/wechat-login", json={"code": f"{tag}{i}"})
                    if r.status_code != 200:
                        raise SystemExit(f"login failed: {r.status_code} {r.text[:200]}")
                    tok = r.json()["token"]
                    return _jwt_sub(tok), tok

            return list(await asyncio.gather(*(one(i) for i in range(n))))

    return asyncio.run(go())


def _from_wrk(r: dict[str, Any], duration: float) -> dict[str, Any]:
    """wrk's figures in the shape of the Python client's (_loadgen)."""
    st = r["status"]
    won, sold_out = st.get("202", 0), st.get("409:SOLD_OUT", 0)
    other = r["requests"] - won - sold_out
    errors = other + sum(r["socket_errors"].values()) + r["reused_lines"]
    samples = [f"{k}: {v}" for k, v in st.items() if k not in ("202", "409:SOLD_OUT")]
    if r["reused_lines"]:
        samples.append(f"{r['reused_lines']} requests reused a spent token (the run outlasted the tokens made)")
    if r["error_samples"]:
        samples.append(r["error_samples"][:600])
    return {
        "attempts_per_s": r["requests_per_s"],
        "won_per_s": round(won * r["requests_per_s"] / r["requests"], 1) if r["requests"] else 0.0,
        "sold_out_per_s": round(sold_out * r["requests_per_s"] / r["requests"], 1) if r["requests"] else 0.0,
        "p50_ms": r["p50_ms"],
        "p99_ms": r["p99_ms"],
        "p90_ms": r["p90_ms"],
        "p999_ms": r["p999_ms"],
        "max_ms": r["max_ms"],
        "errors": errors,
        "error_samples": samples,
        "won_total": won + r["warmup_status"].get("202", 0),
        "cpu_pct": r["cpu_pct"],
        "server_cpu_ms_per_attempt": r["server_cpu_ms_per_request"],
        "client": r["client"],
        # wrk stops with requests in flight whose answers it never reads: the server may have taken up to
        # one per connection per wrk run (warm-up and measured) beyond what the client counted.
        "unread_bound": 0,
    }


def _wrk_attempts(server: Server, item: int, secret: str, tag: str, args: argparse.Namespace) -> dict[str, Any]:
    assert server.proc is not None
    users = _login_all(server.base_url, 2 * args.concurrency, tag)
    host = f"127.0.0.1:{server.port}"
    heads = [
        f"POST /api/v1/seckill/items/{item}/attempts HTTP/1.1\r\nHost: {host}\r\n"
        f"Authorization: Bearer {tok}\r\nContent-Type: application/json"
        for _, tok in users
    ]
    addr = json.dumps(ADDRESS, ensure_ascii=False, separators=(",", ":"))
    expires = int(time.time()) + 3600  # only the server's clock judges it (+1 h)
    from fissionmall.risk.rules import sign_token

    def lines(n: int) -> list[tuple[int, str]]:
        out = []
        for i in range(n):
            k = i % len(users)
            out.append((k, sign_token(secret, item_id=item, customer_id=users[k][0], expires=expires)))
        return out

    r = wrk.run(
        port=server.port,
        server_pid=server.proc.pid,
        req=wrk.Request(heads, pre='{"qty":1,"address":' + addr + ',"token":"', post='"}'),
        make_lines=lines,
        conns=args.concurrency,
        warmup_s=args.warmup,
        duration_s=args.duration,
        threads=args.wrk_threads,
    )
    out = _from_wrk(r, args.duration)
    out["unread_bound"] = 2 * args.concurrency
    return out


def _wrk_baseline(server: Server, item: int, args: argparse.Namespace) -> dict[str, Any]:
    assert server.proc is not None
    head = f"POST /items/{item}/attempts HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\nContent-Type: application/json"
    r = wrk.run(
        port=server.port,
        server_pid=server.proc.pid,
        req=wrk.Request([head], pre='{"user_id":', post="}"),
        make_lines=lambda n: [(0, str(i % (2 * args.concurrency) + 1)) for i in range(n)],
        conns=args.concurrency,
        warmup_s=args.warmup,
        duration_s=args.duration,
        threads=args.wrk_threads,
        wrap=True,
    )
    out = _from_wrk(r, args.duration)
    out["unread_bound"] = 2 * args.concurrency
    return out


def run_hello_wrk(args: argparse.Namespace, workers: int) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix="fmbench-hello-"))
    server = Server("bench.hello:app", env={}, cwd=tmp, log_path=tmp / "server.log", workers=workers)
    try:
        server.start("/hello")
        assert server.proc is not None
        log(f"hello (wrk, {workers} worker(s)): serving on {server.base_url}")
        r = wrk.run(
            port=server.port,
            server_pid=server.proc.pid,
            req=wrk.Request([f"GET /hello HTTP/1.1\r\nHost: 127.0.0.1:{server.port}"]),
            make_lines=lambda n: [(0, "")] * n,
            conns=args.concurrency,
            warmup_s=args.warmup,
            duration_s=args.duration,
            threads=args.wrk_threads,
            wrap=True,
        )
    finally:
        server.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    errors = r["requests"] - r["status"].get("200", 0) + sum(r["socket_errors"].values())
    return {
        "bench": "hello",
        "workers": workers,
        "concurrency": args.concurrency,
        "duration_s": args.duration,
        "requests_per_s": r["requests_per_s"],
        "p50_ms": r["p50_ms"],
        "p90_ms": r["p90_ms"],
        "p99_ms": r["p99_ms"],
        "p999_ms": r["p999_ms"],
        "max_ms": r["max_ms"],
        "errors": errors,
        "server_cpu_ms_per_request": r["server_cpu_ms_per_request"],
        "cpu_pct": r["cpu_pct"],
        "client": r["client"],
        "server": server_stack(workers),
    }


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
        async with r.pipeline(transaction=True) as p:  # one snapshot: MULTI … EXEC
            for i in items:
                p.hget(f"{prefix}sk:i:{i}", "left")
            p.xlen(f"{prefix}sk:stream")
            *lefts, length = await p.execute()
        return {"left": {i: int(v or -1) for i, v in zip(items, lefts, strict=True)}, "stream_len": int(length)}
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
            # one statement, one snapshot: requests still finishing cannot land between two reads
            q = "SELECT id, sold, (SELECT count(*) FROM orders WHERE source = 'seckill') FROM seckill_items"
            rows = (await c.execute(text(q))).all()
    finally:
        await e.dispose()
    sold = {int(i): int(n) for i, n, _ in rows}
    return {"sold": {i: sold.get(i) for i in items}, "orders": int(rows[0][2]) if rows else 0}


def _settled(read: Any, *, quiet_s: float = 1.0, limit_s: float = 60.0) -> Any:
    """Facts read once they stop changing: wrk stops with requests in flight (in the embedded path each
    takes seconds), and the server finishing them must not overlap the next run or the check."""
    deadline = time.monotonic() + limit_s
    last = read()
    while time.monotonic() < deadline:
        time.sleep(quiet_s)
        now = read()
        if now == last:
            return now
        last = now
    return last


def run_app(backend: str, args: argparse.Namespace, workers: int = 1) -> list[dict[str, Any]]:
    from bench.orders import _create_admin
    from fissionmall.core.migrate import upgrade

    pid = os.getpid()
    tmp, var, env = workspace(f"fmbench-seckill-{backend}-", embedded_worker=False)
    secret = env["FISSIONMALL_SECRET_KEY"]  # the load generator signs path tokens with it
    admin_dsn = args.pg_url.replace("postgresql+asyncpg://", "postgresql://")
    db_name, prefix = f"fm_bench_sk_{pid}", f"fmbench:sk:{pid}:{workers}:"
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
                FISSIONMALL_RISK_ENABLED="false" if backend == "redis-norisk" else "true",
                FISSIONMALL_DATABASE_URL=db_url,
                FISSIONMALL_REDIS_URL=args.redis_url,
                FISSIONMALL_REDIS_PREFIX=prefix,
                # PostgreSQL allows 100 connections: each worker process keeps its pool within its share
                FISSIONMALL_DB_POOL_SIZE=str(max(4, 40 // workers)),
                FISSIONMALL_DB_MAX_OVERFLOW=str(max(2, 40 // workers)),
            )
        upgrade(db_url)
        asyncio.run(_create_admin(db_url))
        server = Server("fissionmall.asgi:app", env=env, cwd=tmp, log_path=tmp / "server.log", workers=workers)
        server.start("/healthz")
        assert server.proc is not None
        win_item, soldout_item, _ = _setup_sale(server.base_url)
        stream_before = 0
        log(f"seckill {backend} ({workers} worker(s)) on {server.base_url}: items {win_item} (win), {soldout_item}")
        for run, item, pool in (("win", win_item, WIN_POOL), ("soldout", soldout_item, SOLDOUT_POOL)):
            if args.client == "wrk":
                res = _wrk_attempts(server, item, secret, f"sk{pid}{workers}{run}", args)
            else:
                res = _python_client(server, args, "app", item, secret=secret, tag=f"sk{pid}{run}")
            sql = _settled(lambda it=item: asyncio.run(_sql_facts(db_url, [it])))
            if backend.startswith("redis"):
                rf = _settled(lambda it=item: asyncio.run(_redis_facts(args.redis_url, prefix, [it])))
                taken = pool - rf["left"][item]
                # no consumer runs during the bench: every reservation taken is still in the stream
                stream = rf["stream_len"] - stream_before
                stream_before = rf["stream_len"]
                inv = {"won_by_client": res["won_total"], "taken_in_redis": taken, "new_in_stream": stream}
                ok = _agrees(res, taken, pool) and stream == taken
            else:
                taken = sql["sold"][item]
                inv = {"won_by_client": res["won_total"], "sold_in_db": taken, "orders_in_db": sql["orders"]}
                ok = _agrees(res, taken, pool)
            if res["unread_bound"]:
                inv["unread_bound"] = res["unread_bound"]
            lines.append(_line(f"{backend}", run, args, res, ok, inv, pool, workers))
            emit(lines[-1])
        if backend == "redis" and workers == 1 and args.consumer_s > 0:
            lines.append(_consumer_line(env, tmp, db_url, args))
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


def _consumer_line(env: dict[str, str], tmp: Path, db_url: str, args: argparse.Namespace) -> dict[str, Any]:
    """How fast winners get their orders: `--consumers` `fissionmall worker` processes (whose stream
    consumers turn reservations into orders) on the backlog the win run left, orders counted over
    `--consumer-s`."""

    async def orders() -> int:
        return int((await _sql_facts(db_url, []))["orders"])

    before = asyncio.run(orders())
    full_env = {**os.environ, **env}
    procs = []
    for i in range(args.consumers):
        with open(tmp / f"worker{i}.log", "wb") as out:
            cmd = [sys.executable, "-m", "fissionmall.cli", "worker"]
            procs.append(subprocess.Popen(cmd, cwd=tmp, env=full_env, stdout=out, stderr=out))

    def cpu() -> float:
        return sum(proc_cpu_seconds(p.pid) or 0.0 for p in procs)

    try:
        deadline = time.monotonic() + 60
        while asyncio.run(orders()) == before and time.monotonic() < deadline:
            time.sleep(0.2)  # start-up: imports, connections, the consumer group
        time.sleep(1.0)  # warm-up
        n0, c0, t0 = asyncio.run(orders()), cpu(), time.perf_counter()
        time.sleep(args.consumer_s)
        n1, c1, t1 = asyncio.run(orders()), cpu(), time.perf_counter()
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
    made = n1 - n0
    problems = []
    for i in range(args.consumers):
        text = (tmp / f"worker{i}.log").read_text(errors="replace")
        problems += [ln for ln in text.splitlines() if "Traceback" in ln or " ERROR " in ln]
    return {
        "bench": "seckill",
        "path": "redis-consumer",
        "run": "drain",
        "workers": args.consumers,
        "orders_per_s": round(made / (t1 - t0), 1),
        "orders_in_window": made,
        "worker_cpu_ms_per_order": round((c1 - c0) * 1000 / made, 2) if made else None,
        "errors": len(problems),
        **({"error_samples": problems[:3]} if problems else {}),
        "note": "`fissionmall worker` processes turning the win run's queued reservations into orders",
    }


def _agrees(res: dict[str, Any], taken: int, pool: int) -> bool:
    """What the server took matches what the client saw won (give or take answers wrk never read)."""
    return res["won_total"] <= taken <= res["won_total"] + res["unread_bound"] and taken <= pool


def _line(
    backend: str,
    run: str,
    args: argparse.Namespace,
    res: dict[str, Any],
    ok: bool,
    inv: dict[str, Any],
    pool: int,
    workers: int,
) -> dict[str, Any]:
    return {
        "bench": "seckill",
        "path": backend,
        "run": run,
        "workers": workers,
        "pool": pool,
        "concurrency": args.concurrency,
        "duration_s": args.duration,
        "attempts_per_s": res["attempts_per_s"],
        "won_per_s": res["won_per_s"],
        "sold_out_per_s": res["sold_out_per_s"],
        "p50_ms": res["p50_ms"],
        "p99_ms": res["p99_ms"],
        **{k: res[k] for k in ("p90_ms", "p999_ms", "max_ms") if k in res},
        "errors": res["errors"],
        **({"error_samples": res["error_samples"]} if res["errors"] else {}),
        "invariant_ok": ok,
        "invariant": inv,
        "server_cpu_ms_per_attempt": res["server_cpu_ms_per_attempt"],
        "cpu_pct": res["cpu_pct"],
        "client": res.get("client", "python raw (bench/loadgen.py)"),
        "server": server_stack(workers),
    }


# ---- (d) the SELECT … FOR UPDATE baseline -------------------------------------------------------------


def run_baseline(args: argparse.Namespace, workers: int = 1) -> list[dict[str, Any]]:
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
        env = {"BENCH_BASELINE_DB_URL": db_url, "BENCH_BASELINE_POOL": str(50 // workers)}
        server = Server("bench.seckill_baseline:app", env=env, cwd=tmp, log_path=tmp / "server.log", workers=workers)
        server.start("/healthz")
        assert server.proc is not None
        for run, item, pool in (("win", 1, WIN_POOL), ("soldout", 2, SOLDOUT_POOL)):
            if args.client == "wrk":
                res = _wrk_baseline(server, item, args)
            else:
                res = _python_client(server, args, "baseline", item)
            facts = _settled(lambda it=item: asyncio.run(_baseline_facts(dsn, it)))
            taken = pool - facts["stock"]
            inv = {"won_by_client": res["won_total"], "taken_in_db": taken, "orders_in_db": facts["orders"]}
            ok = _agrees(res, taken, pool) and taken == facts["orders"]
            lines.append(_line("baseline", run, args, res, ok, inv, pool, workers))
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
        q = "SELECT stock, (SELECT count(*) FROM bl_orders WHERE item_id = $1) FROM bl_items WHERE id = $1"
        stock, orders = await c.fetchrow(q, item)  # one statement, one snapshot
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
    p.add_argument("--workers", default="1,2", help="uvicorn worker counts to measure a, b and d at")
    p.add_argument("--client", choices=("wrk", "python"), default="wrk" if wrk.available() else "python")
    p.add_argument("--wrk-threads", type=int, default=1)
    p.add_argument("--consumer-s", type=float, default=20.0, help="seconds to time the stream consumer (0: skip)")
    p.add_argument("--consumers", type=int, default=1, help="worker processes draining the stream")
    p.add_argument("--only", default="hello,redis,redis-norisk,embedded,baseline")
    p.add_argument(
        "--pg-url",
        default=os.environ.get("FISSIONMALL_BENCH_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"),
    )
    p.add_argument("--redis-url", default=os.environ.get("FISSIONMALL_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0"))
    args = p.parse_args(argv)
    if args.quick:
        args.duration, args.warmup = 3.0, 1.0
        args.consumer_s = min(args.consumer_s, 3.0)
    if args.client == "python":
        log("wrk not found (apt-get install wrk): measuring with the Python client, which shares the cores")
    only = set(args.only.split(","))
    counts = [int(w) for w in args.workers.split(",")]
    lines: list[dict[str, Any]] = []
    failed: list[str] = []
    for w in counts:
        if "hello" in only:
            if args.client == "wrk":
                h = run_hello_wrk(args, w)
            else:
                from bench.__main__ import run_hello

                h = run_hello(concurrency=args.concurrency, warmup=args.warmup, duration=args.duration, client="raw")
                h["workers"] = 1
            emit(h)
            lines.append(h)
        for name in ("redis", "redis-norisk", "embedded", "baseline"):
            if name not in only or (name == "embedded" and w != counts[0]):
                continue
            try:
                if name == "baseline":
                    lines += run_baseline(args, w)
                else:
                    lines += run_app(name, args, 1 if name == "embedded" else w)
            except Exception as exc:
                log(f"seckill {name} ({w} worker(s)) could not run: {exc}")
                failed.append(f"{name}/{w}")
    emit(summary(lines, counts, failed))
    bad = failed or any(x.get("errors") or x.get("invariant_ok") is False for x in lines)
    return 1 if bad else 0


def summary(lines: list[dict[str, Any]], counts: list[int], failed: list[str]) -> dict[str, Any]:
    def get(path: str, w: int, key: str, run: str = "win") -> Any:
        want = 1 if path == "embedded" else w  # the embedded path is measured once, with one process
        found = (x for x in lines if (x.get("path"), x.get("run"), x.get("workers")) == (path, run, want))
        return next((x.get(key) for x in found), None)

    def hello(w: int, key: str) -> Any:
        return next((x.get(key) for x in lines if x.get("bench") == "hello" and x.get("workers") == w), None)

    runs = [(p, r) for p in ("redis", "redis-norisk", "embedded", "baseline") for r in ("win", "soldout")]
    per: dict[str, Any] = {}
    for w in counts:
        per[f"workers={w}"] = {
            "hello": {"per_s": hello(w, "requests_per_s"), "p99_ms": hello(w, "p99_ms")},
            "attempts_per_s": {f"{p}/{r}": get(p, w, "attempts_per_s", r) for p, r in runs},
            "p99_ms": {f"{p}/{r}": get(p, w, "p99_ms", r) for p, r in runs},
            "ratios": {
                "b_over_a": _ratio(get("redis", w, "attempts_per_s"), hello(w, "requests_per_s")),
                "b_over_d": _ratio(get("redis", w, "attempts_per_s"), get("baseline", w, "attempts_per_s")),
                "c_over_d": _ratio(get("embedded", w, "attempts_per_s"), get("baseline", w, "attempts_per_s")),
                "b_over_a_soldout": _ratio(get("redis", w, "attempts_per_s", "soldout"), hello(w, "requests_per_s")),
                "b_over_d_soldout": _ratio(
                    get("redis", w, "attempts_per_s", "soldout"), get("baseline", w, "attempts_per_s", "soldout")
                ),
                "risk_on_over_off": _ratio(get("redis", w, "attempts_per_s"), get("redis-norisk", w, "attempts_per_s")),
                "risk_on_over_off_soldout": _ratio(
                    get("redis", w, "attempts_per_s", "soldout"), get("redis-norisk", w, "attempts_per_s", "soldout")
                ),
            },
        }
    return {
        "bench": "seckill-summary",
        "by_workers": per,
        "targets": {"b_over_d": 15, "b_over_a": 0.4, "p99_ms_at_256": 50, "risk_on_over_off": 0.9},
        "failed": failed,
        "loadavg_after": os.getloadavg(),
    }


if __name__ == "__main__":
    raise SystemExit(main())
