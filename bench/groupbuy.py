"""拼团 joins per second: one hot group, and many groups at once, with the seat invariant checked after.

`python -m bench.groupbuy [--quick] [--backend postgres|sqlite] [--concurrency 32]`

One fresh database (PostgreSQL + Redis by default, as in production; `--backend sqlite` for the embedded
default), migrated by Alembic, the app served by uvicorn with its embedded worker (bench/common.Server),
a product and group-buying activities created through the admin API. Then, with `--concurrency` clients
on keep-alive connections (bench/loadgen.RawConn):

- `hot`: one group of 100 seats (`--quick`: 30) whose leader has paid; twice as many shoppers as seats
  each join it and pay (join → pay → sandbox succeed). Everyone past the last seat must get 409
  GROUP_FULL and never be charged.
- `many`: `--groups` groups of 3 seats (leaders open and pay before the clock starts); two joiners per
  group, spread over all groups, join and pay.

Figures: `joins_per_s` (join + pay cycles that took a seat, per second of the run), `attempts_per_s`
(every join request, refusals included), p50/p99 of one join request and of a full cycle. After the run,
once the worker has drained: no group has more paid members than seats, every full group succeeded,
paid members == leaders + seats the clients took, refused shoppers have no order.
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
from bench.tools import Client, served
from bench.tools import login as _login

ADDRESS = {"name": "压测", "phone": "13800138000", "region": "上海市", "detail": "压测路 1 号"}


async def _pay(c: Client, token: str, order_id: int) -> None:
    status, body = await c.call("POST", f"/api/v1/orders/{order_id}/pay", {"method": "gateway"}, token)
    assert status == 200, body
    status, body = await c.call("POST", f"/api/v1/payments/sandbox/{body['payment_id']}/succeed", None, token)
    assert status == 200 and body["outcome"] == "applied", body


async def _setup(port: int, *, groups: int, hot_size: int, tag: str) -> dict[str, Any]:
    c = Client(port)
    status, body = await c.call(
        "POST", "/api/admin/v1/auth/login", {"username": ADMIN_USER, "password": ADMIN_PASSWORD}
    )
    assert status == 200, body
    boss = body["token"]
    status, p = await c.call(
        "POST",
        "/api/admin/v1/products",
        {"title": "拼团压测", "category": "压测", "skus": [{"name": "默认", "price_fen": 1990, "stock": 3_000_000}]},
        boss,
    )
    assert status == 201, p
    sku = p["skus"][0]["id"]
    now = datetime.now(UTC)

    async def activity(size: int) -> int:
        status, a = await c.call(
            "POST",
            "/api/admin/v1/groupbuy/activities",
            {
                "product_id": p["id"],
                "skus": [{"sku_id": sku, "price_fen": 990}],
                "group_size": size,
                "duration_minutes": 24 * 60,
                "stock": 1_000_000,  # taken from the SKU's stock, so the SKU holds enough for both activities
                "per_order_limit": 1,
                "starts_at": (now - timedelta(hours=1)).isoformat(),
                "ends_at": (now + timedelta(days=2)).isoformat(),
            },
            boss,
        )
        assert status == 201, a
        return int(a["id"])

    hot_act, many_act = await activity(hot_size), await activity(3)

    async def open_paid(act: int, code: str) -> int:
        token = await _login(c, code)
        status, body = await c.call(
            "POST", f"/api/v1/groupbuy/activities/{act}/groups", {"sku_id": sku, "qty": 1, "address": ADDRESS}, token
        )
        assert status == 201, body
        await _pay(c, token, body["order"]["id"])
        return int(body["group_id"])

    hot_group = await open_paid(hot_act, f"{tag}-hot-leader")
    many_groups = [await open_paid(many_act, f"{tag}-leader{i}") for i in range(groups)]
    c.conn.close()
    return {"sku": sku, "hot_group": hot_group, "many_groups": many_groups, "hot_act": hot_act, "many_act": many_act}


async def _wait_forming(port: int, group_ids: list[int], limit_s: float = 60) -> None:
    """Groups show once the worker has handled the leaders' OrderPaid."""
    c = Client(port)
    deadline = time.monotonic() + limit_s
    for gid in group_ids:
        while True:
            status, body = await c.call("GET", f"/api/v1/groupbuy/groups/{gid}")
            if status == 200 and body["status"] == "forming":
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"group {gid} never formed: {status} {body}")
            await asyncio.sleep(0.1)
    c.conn.close()


async def _run(port: int, *, targets: list[int], sku: int, concurrency: int, tag: str) -> dict[str, Any]:
    """Each target group id in `targets` is one shopper's join + pay; `concurrency` clients work the list."""
    queue: asyncio.Queue[tuple[int, int]] = asyncio.Queue()
    for i, gid in enumerate(targets):
        queue.put_nowait((i, gid))
    outcomes: Counter[str] = Counter()
    join_lat: list[float] = []
    cycle_lat: list[float] = []
    errors: list[str] = []

    async def worker() -> None:
        c = Client(port)
        while True:
            try:
                i, gid = queue.get_nowait()
            except asyncio.QueueEmpty:
                break
            try:
                token = await _login(c, f"{tag}-joiner{i}")
                t0 = time.perf_counter()
                status, body = await c.call(
                    "POST", f"/api/v1/groupbuy/groups/{gid}/join", {"sku_id": sku, "qty": 1, "address": ADDRESS}, token
                )
                join_lat.append(time.perf_counter() - t0)
                if status == 201:
                    await _pay(c, token, body["order"]["id"])
                    cycle_lat.append(time.perf_counter() - t0)
                    outcomes["joined"] += 1
                elif status == 409 and body["error"]["code"] in ("GROUP_FULL", "GROUP_FAILED"):
                    outcomes[body["error"]["code"]] += 1
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
    join_lat.sort()
    cycle_lat.sort()
    return {
        "wall_s": round(wall, 3),
        "attempts": len(join_lat),
        "joined": outcomes["joined"],
        "refused": {k: v for k, v in outcomes.items() if k not in ("joined", "error")},
        "errors": outcomes["error"],
        "error_samples": errors[:3],
        "joins_per_s": round(outcomes["joined"] / wall, 2) if wall else None,
        "attempts_per_s": round(len(join_lat) / wall, 2) if wall else None,
        "join_p50_ms": ms(percentile(join_lat, 0.5)),
        "join_p99_ms": ms(percentile(join_lat, 0.99)),
        "cycle_p50_ms": ms(percentile(cycle_lat, 0.5)),
        "cycle_p99_ms": ms(percentile(cycle_lat, 0.99)),
    }


async def _invariant(db_url: str, activity_id: int) -> dict[str, Any]:
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(db_url)
    try:
        async with engine.connect() as c:
            # Read first: once no event job is pending (the clients are done), the figures below are final.
            pending = int(
                (
                    await c.execute(text("SELECT count(*) FROM jobs WHERE status = 'pending' AND event_id IS NOT NULL"))
                ).scalar_one()
            )
            rows = (
                await c.execute(
                    text(
                        "SELECT g.id, g.size, g.status, g.paid_count, g.seats_taken, "
                        "(SELECT count(*) FROM groupbuy_members m WHERE m.group_id = g.id AND m.status = 'paid') "
                        "FROM groupbuy_groups g WHERE g.activity_id = :a"
                    ),
                    {"a": activity_id},
                )
            ).all()
            orders = int(
                (
                    await c.execute(
                        text(
                            "SELECT count(*) FROM groupbuy_members m JOIN orders o ON o.id = m.order_id "
                            "WHERE m.activity_id = :a AND o.status = 'paid'"
                        ),
                        {"a": activity_id},
                    )
                ).scalar_one()
            )
            dead = int((await c.execute(text("SELECT count(*) FROM jobs WHERE status = 'dead'"))).scalar_one())
            by_status = {
                f"{r[0]}/{r[1]}": int(r[2])
                for r in await c.execute(
                    text(
                        "SELECT m.status, o.status, count(*) FROM groupbuy_members m LEFT JOIN orders o "
                        "ON o.id = m.order_id WHERE m.activity_id = :a GROUP BY 1, 2"
                    ),
                    {"a": activity_id},
                )
            }
            failed_jobs = [
                str(r[0])[:300]
                for r in await c.execute(text("SELECT last_error FROM jobs WHERE last_error IS NOT NULL LIMIT 3"))
            ]
    finally:
        await engine.dispose()
    return {
        "groups": len(rows),
        "overfilled": sum(
            1 for _, size, _, paid, seats, members in rows if members > size or paid > size or seats > size
        ),
        "full_not_succeeded": sum(1 for _, size, st, _, _, members in rows if members == size and st != "succeeded"),
        "succeeded": sum(1 for r in rows if r[2] == "succeeded"),
        "paid_members": sum(r[5] for r in rows),
        "paid_orders": orders,
        "pending_event_jobs": pending,
        "dead_jobs": dead,
        "members_by_status": by_status,
        "job_errors": failed_jobs,
    }


async def _drained(db_url: str, activity_id: int, limit_s: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + limit_s
    while True:
        facts = await _invariant(db_url, activity_id)
        if facts["pending_event_jobs"] == 0 or time.monotonic() > deadline:
            return facts
        await asyncio.sleep(0.5)


def run(backend: str, *, concurrency: int, hot_size: int, groups: int) -> list[dict[str, Any]]:
    lines: list[dict[str, Any]] = []
    with served("gb", backend) as (db_url, server):
        tag = f"gb{os.getpid()}"
        log(f"groupbuy/{backend}: setting up 1 hot group of {hot_size} and {groups} groups of 3")
        shop = asyncio.run(_setup(server.port, groups=groups, hot_size=hot_size, tag=tag))
        asyncio.run(_wait_forming(server.port, [shop["hot_group"], *shop["many_groups"]]))
        scenarios = [
            ("hot", [shop["hot_group"]] * (2 * hot_size), shop["hot_act"], hot_size - 1),
            ("many", [g for g in shop["many_groups"] for _ in range(2)], shop["many_act"], 2 * groups),
        ]
        for name, targets, act, seats in scenarios:
            # Interleave the many-groups targets so concurrent joiners hit different groups.
            if name == "many":
                targets = [shop["many_groups"][i % groups] for i in range(len(targets))]
            log(f"groupbuy/{backend}: {name}: {len(targets)} shoppers, {concurrency} at once")
            result = asyncio.run(_run(server.port, targets=targets, sku=shop["sku"], concurrency=concurrency,
                                      tag=f"{tag}-{name}"))  # fmt: skip
            facts = asyncio.run(_drained(db_url, act))
            leaders = 1 if name == "hot" else groups
            ok = (
                facts["overfilled"] == 0
                and facts["full_not_succeeded"] == 0
                and facts["paid_members"] == facts["paid_orders"] == leaders + result["joined"]
                and result["joined"] == seats
                and result["errors"] == 0
                and facts["dead_jobs"] == 0
            )
            lines.append(
                {
                    "bench": "groupbuy",
                    "scenario": name,
                    "backend": backend,
                    "concurrency": concurrency,
                    "groups": 1 if name == "hot" else groups,
                    "group_size": hot_size if name == "hot" else 3,
                    "shoppers": len(targets),
                    **result,
                    "invariant_ok": ok,
                    "invariant": {**facts, "seats_offered": seats},
                    "server": server_stack(),
                }
            )
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.groupbuy", description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="a smaller run (30-seat hot group, 15 groups)")
    ap.add_argument("--backend", choices=("postgres", "sqlite"), default="postgres")
    ap.add_argument("--concurrency", type=int, default=32)
    ap.add_argument("--hot-size", type=int, default=None, help="seats of the hot group (2..100)")
    ap.add_argument("--groups", type=int, default=None, help="groups in the many-groups run")
    args = ap.parse_args(argv)
    hot = args.hot_size or (30 if args.quick else 100)
    groups = args.groups or (15 if args.quick else 60)
    try:
        lines = run(args.backend, concurrency=args.concurrency, hot_size=min(100, max(2, hot)), groups=groups)
    except Exception as exc:
        emit({"bench": "groupbuy", "backend": args.backend, "error": repr(exc)})
        return 1
    for line in lines:
        emit(line)
    return 0 if all(x["invariant_ok"] for x in lines) else 1


if __name__ == "__main__":
    raise SystemExit(main())
