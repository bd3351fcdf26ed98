"""砍价 helps per second: one hot bargain with many friends, and many bargains at once, with the sum
invariant (start − Σ cuts = current price) checked after the run.

`python -m bench.bargain [--quick] [--backend postgres|sqlite] [--concurrency 32]`

One fresh database (PostgreSQL + Redis by default, as in production; `--backend sqlite` for the embedded
default), migrated by Alembic, the app served by uvicorn with its embedded worker (bench/common.Server), a
product and two bargaining activities created through the admin API, the friends logged in before the clock
starts. Then, with `--concurrency` clients on keep-alive connections (bench/loadgen.RawConn):

- `hot`: one bargain needing 100 helps (`--quick`: 30); twice as many friends as helps each tap 帮TA砍一刀 on
  it. Every help past the last must get 409 BARGAIN_REACHED, and the price must end exactly at the target.
- `many`: `--bargains` bargains of 10 helps each; ten friends per bargain, interleaved so concurrent helps
  hit different bargains.

Figures: `helps_per_s` (accepted helps per second of the run), `attempts_per_s` (every request, refusals
included), p50/p99 of one help request. After the run: no bargain whose start − Σ cuts differs from its
price, or whose help count differs from its help rows, or that went below its target; the accepted helps
equal the helps offered. These lines print beside the hello ceiling `python -m bench` measures in the same
`make bench` run.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.common import emit, log, ms, percentile, server_stack
from bench.orders import ADMIN_PASSWORD, ADMIN_USER
from bench.tools import Client, login, served


async def _open_gate(db_url: str) -> None:
    """Every bench friend is a fresh account from one machine: lift the burst rule so the gate measures
    its checks without refusing the crowd (the rule itself is tested in tests/bargain/test_risk.py)."""
    from fissionmall.core.db import Database
    from fissionmall.risk import service as risk
    from fissionmall.risk.rules import HelpLimits

    db = Database(db_url)
    try:
        await risk.save_help_limits(db, new=HelpLimits(burst_new_accounts=1_000_000, free_helps=1_000_000))
    finally:
        await db.dispose()


async def _setup(port: int, *, bargains: int, hot_helps: int, tag: str) -> dict[str, Any]:
    c = Client(port)
    status, body = await c.call(
        "POST", "/api/admin/v1/auth/login", {"username": ADMIN_USER, "password": ADMIN_PASSWORD}
    )
    assert status == 200, body
    boss = body["token"]
    status, p = await c.call(
        "POST",
        "/api/admin/v1/products",
        {"title": "砍价压测", "category": "压测", "skus": [{"name": "默认", "price_fen": 99_900, "stock": 100_000}]},
        boss,
    )
    assert status == 201, p
    now = datetime.now(UTC)

    async def activity(helpers: int) -> int:
        status, a = await c.call(
            "POST",
            "/api/admin/v1/bargain/activities",
            {
                "product_id": p["id"],
                "sku_id": p["skus"][0]["id"],
                "target_fen": 3900,
                "helpers_needed": helpers,
                "min_cut_fen": 100,
                "duration_minutes": 24 * 60,
                "stock": 10_000,
                "daily_help_limit": 1000,
                "starts_at": (now - timedelta(hours=1)).isoformat(),
                "ends_at": (now + timedelta(days=2)).isoformat(),
            },
            boss,
        )
        assert status == 201, a
        return int(a["id"])

    hot_act, many_act = await activity(hot_helps), await activity(10)

    async def started(act: int, code: str) -> int:
        status, body = await c.call("POST", f"/api/v1/bargain/activities/{act}/start", None, await login(c, code))
        assert status == 201, body
        return int(body["bargain_id"])

    hot = await started(hot_act, f"{tag}-hot-starter")
    many = [await started(many_act, f"{tag}-starter{i}") for i in range(bargains)]
    c.conn.close()
    return {"hot": hot, "many": many}


async def _tokens(port: int, codes: list[str], concurrency: int) -> list[str]:
    """Log the friends in before the clock starts: the run measures helps, not logins."""
    out: list[str] = [""] * len(codes)
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(len(codes)):
        queue.put_nowait(i)

    async def worker() -> None:
        c = Client(port)
        while not queue.empty():
            i = queue.get_nowait()
            out[i] = await login(c, codes[i])
        c.conn.close()

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return out


async def _run(port: int, *, targets: list[tuple[str, int]], concurrency: int) -> dict[str, Any]:
    """Each (token, bargain id) in `targets` is one friend's help; `concurrency` clients work the list."""
    queue: asyncio.Queue[tuple[str, int]] = asyncio.Queue()
    for t in targets:
        queue.put_nowait(t)
    outcomes: Counter[str] = Counter()
    lat: list[float] = []
    errors: list[str] = []

    async def worker() -> None:
        c = Client(port)
        while True:
            try:
                token, bid = queue.get_nowait()
            except asyncio.QueueEmpty:
                break
            try:
                t0 = time.perf_counter()
                status, body = await c.call("POST", f"/api/v1/bargain/{bid}/help", None, token)
                lat.append(time.perf_counter() - t0)
                if status == 200:
                    outcomes["helped"] += 1
                elif status == 409 and body["error"]["code"] == "BARGAIN_REACHED":
                    outcomes["BARGAIN_REACHED"] += 1
                else:
                    outcomes["error"] += 1
                    errors.append(f"{status} {body}")
            except Exception as exc:  # a timeout or a broken connection is an error of the run, not a crash
                outcomes["error"] += 1
                errors.append(repr(exc))
        c.conn.close()

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    wall = time.perf_counter() - start
    lat.sort()
    return {
        "wall_s": round(wall, 3),
        "attempts": len(lat),
        "helped": outcomes["helped"],
        "refused": {k: v for k, v in outcomes.items() if k not in ("helped", "error")},
        "errors": outcomes["error"],
        "error_samples": errors[:3],
        "helps_per_s": round(outcomes["helped"] / wall, 2) if wall else None,
        "attempts_per_s": round(len(lat) / wall, 2) if wall else None,
        "help_p50_ms": ms(percentile(lat, 0.5)),
        "help_p99_ms": ms(percentile(lat, 0.99)),
    }


async def _invariant(db_url: str, bargain_ids: list[int]) -> dict[str, Any]:
    from sqlalchemy import bindparam, text
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(db_url)
    try:
        async with engine.connect() as c:
            rows = (
                await c.execute(
                    text(
                        "SELECT b.id, b.start_fen, b.price_fen, b.target_fen, b.helps, b.helpers_needed, b.status, "
                        "COALESCE((SELECT sum(h.cut_fen) FROM bargain_helps h WHERE h.bargain_id = b.id), 0), "
                        "(SELECT count(*) FROM bargain_helps h WHERE h.bargain_id = b.id) "
                        "FROM bargains b WHERE b.id IN :ids"
                    ).bindparams(bindparam("ids", expanding=True)),
                    {"ids": bargain_ids},
                )
            ).all()
    finally:
        await engine.dispose()
    return {
        "bargains": len(rows),
        "sum_breaks": sum(1 for _, start, price, _, _, _, _, cut, _ in rows if start - cut != price),
        "count_breaks": sum(1 for r in rows if r[4] != r[8] or r[4] > r[5]),
        "below_target": sum(1 for r in rows if r[2] < r[3]),
        "reached": sum(1 for r in rows if r[6] == "reached" and r[2] == r[3] and r[4] == r[5]),
        "helps": sum(r[4] for r in rows),
    }


def run(backend: str, *, concurrency: int, hot_helps: int, bargains: int) -> list[dict[str, Any]]:
    lines: list[dict[str, Any]] = []
    with served("bg", backend, prepare=lambda url: asyncio.run(_open_gate(url))) as (db_url, server):
        tag = f"bg{os.getpid()}"
        log(f"bargain/{backend}: setting up 1 bargain of {hot_helps} helps and {bargains} of 10")
        shop = asyncio.run(_setup(server.port, bargains=bargains, hot_helps=hot_helps, tag=tag))
        scenarios = [
            ("hot", [shop["hot"]] * (2 * hot_helps), hot_helps),
            ("many", [shop["many"][i % bargains] for i in range(10 * bargains)], 10 * bargains),
        ]
        for name, targets, offered in scenarios:
            codes = [f"{tag}-{name}-friend{i}" for i in range(len(targets))]
            tokens = asyncio.run(_tokens(server.port, codes, concurrency))
            log(f"bargain/{backend}: {name}: {len(targets)} friends, {concurrency} at once")
            result = asyncio.run(_run(server.port, targets=list(zip(tokens, targets, strict=True)),
                                      concurrency=concurrency))  # fmt: skip
            ids = sorted(set(targets))
            facts = asyncio.run(_invariant(db_url, ids))
            ok = (
                facts["sum_breaks"] == facts["count_breaks"] == facts["below_target"] == 0
                and facts["reached"] == len(ids)
                and result["helped"] == facts["helps"] == offered
                and result["errors"] == 0
            )
            lines.append(
                {
                    "bench": "bargain",
                    "scenario": name,
                    "backend": backend,
                    "concurrency": concurrency,
                    "bargains": len(ids),
                    "helps_needed": hot_helps if name == "hot" else 10,
                    "friends": len(targets),
                    **result,
                    "invariant_ok": ok,
                    "invariant": {**facts, "helps_offered": offered},
                    "server": server_stack(),
                }
            )
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.bargain", description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="a smaller run (a 30-help hot bargain, 15 bargains)")
    ap.add_argument("--backend", choices=("postgres", "sqlite"), default="postgres")
    ap.add_argument("--concurrency", type=int, default=32)
    ap.add_argument("--hot-helps", type=int, default=None, help="helps the hot bargain needs (1..100)")
    ap.add_argument("--bargains", type=int, default=None, help="bargains in the many-bargains run")
    args = ap.parse_args(argv)
    hot = args.hot_helps or (30 if args.quick else 100)
    bargains = args.bargains or (15 if args.quick else 60)
    try:
        lines = run(args.backend, concurrency=args.concurrency, hot_helps=min(100, max(1, hot)), bargains=bargains)
    except Exception as exc:
        emit({"bench": "bargain", "backend": args.backend, "error": repr(exc)})
        return 1
    for line in lines:
        emit(line)
    return 0 if all(x["invariant_ok"] for x in lines) else 1


if __name__ == "__main__":
    raise SystemExit(main())
