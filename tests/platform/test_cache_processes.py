"""Cache coherence between real server processes: an operator edits a price and a promotion through process
A; process B, whose cache already holds the old catalogue and promotions, prices with the new ones within a
second (core.cache polls the versions every POLL_SECONDS). Two uvicorn processes on one database: this
run's backend (PostgreSQL + Redis, or one SQLite file)."""

from __future__ import annotations

import asyncio
import os
import secrets
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from fissionmall.accounts import service as accounts
from fissionmall.core.db import Database
from fissionmall.core.migrate import upgrade
from tests.conftest import BACKEND, PG_URL, REDIS_URL, RUN_ID, _free_port, _pg_admin
from tests.helpers import ADDRESS

pytestmark = pytest.mark.slow  # two server processes to start: ~10 s

ADMIN = "/api/admin/v1"
PASSWORD = "correct horse battery"
BOUND = 1.0  # the task's promise: an edit is priced in everywhere within a second


async def _make_admin(url: str) -> None:
    db = Database(url)
    try:
        async with db.tx() as s:
            await accounts.create_admin(s, username="boss", password=PASSWORD, role="owner")
    finally:
        await db.dispose()


@pytest.fixture
def two_servers(tmp_path: Path) -> Iterator[tuple[str, str]]:
    tag = f"{RUN_ID}_{secrets.token_hex(2)}"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("FISSIONMALL_")},
        "FISSIONMALL_ENV": "dev",
        "FISSIONMALL_SECRET_KEY": "coherence-secret-" + "z" * 32,  # one key: A's tokens are good at B
        "FISSIONMALL_EMBEDDED_WORKER": "false",
        "FISSIONMALL_REDIS_PREFIX": f"fmcache:{tag}:",
        "FISSIONMALL_LOGIN_RATE_PER_MINUTE": "100000",
        "FISSIONMALL_ORDER_RATE_PER_MINUTE": "100000",
    }
    pg_name = None
    if BACKEND == "postgres":
        pg_name = f"fm_cache_{tag}"
        asyncio.run(_pg_admin(f'CREATE DATABASE "{pg_name}"'))
        url = f"{PG_URL.rsplit('/', 1)[0]}/{pg_name}"
        env["FISSIONMALL_REDIS_URL"] = REDIS_URL
    else:
        url = f"sqlite+aiosqlite:///{tmp_path / 'shared.db'}"
    env["FISSIONMALL_DATABASE_URL"] = url
    procs: list[subprocess.Popen[bytes]] = []
    try:
        upgrade(url)
        asyncio.run(_make_admin(url))
        bases = []
        for name in ("a", "b"):
            port = _free_port()
            var = tmp_path / f"var-{name}"
            log = open(tmp_path / f"server-{name}.log", "w")
            procs.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "uvicorn",
                        "fissionmall.asgi:app",
                        "--host",
                        "127.0.0.1",
                        "--port",
                        str(port),
                    ],
                    env={**env, "FISSIONMALL_VAR_DIR": str(var)},
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
            bases.append(f"http://127.0.0.1:{port}")
        for base, proc, name in zip(bases, procs, "ab", strict=True):
            deadline = time.monotonic() + 60
            while True:
                try:
                    if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("server did not start:\n" + (tmp_path / f"server-{name}.log").read_text())
                time.sleep(0.1)
        yield bases[0], bases[1]
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
        if pg_name:
            asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)'))


def _ok(r: httpx.Response, status: int = 200) -> Any:
    assert r.status_code == status, r.text
    return r.json()


def _until(check: Callable[[], bool]) -> float:
    """Seconds until `check` holds, asking about every 20 ms (give up after 5 s: the bound is 1 s)."""
    t0 = time.monotonic()
    while not check():
        if time.monotonic() - t0 > 5:
            raise AssertionError("the other process never saw the edit")
        time.sleep(0.02)
    return time.monotonic() - t0


def test_an_edit_through_one_process_is_priced_by_another_within_a_second(two_servers):
    base_a, base_b = two_servers
    with httpx.Client(base_url=base_a, timeout=10) as a, httpx.Client(base_url=base_b, timeout=10) as b:
        boss = {
            "Authorization": "Bearer "
            + _ok(a.post(f"{ADMIN}/auth/login", json={"username": "boss", "password": PASSWORD}))["token"]
        }
        body = {"title": "茶叶", "category": "茶", "skus": [{"name": "默认", "price_fen": 5000, "stock": 100}]}
        prod = _ok(a.post(f"{ADMIN}/products", json=body, headers=boss), 201)
        sku = prod["skus"][0]["id"]
        me = {"Authorization": "Bearer " + _ok(b.post("/api/v1/auth/wechat-login", json={"code": "alice"}))["token"]}
        items = {"items": [{"sku_id": sku, "qty": 1}]}

        def quote() -> dict[str, Any]:
            return _ok(b.post("/api/v1/checkout/preview", json=items, headers=me))  # type: ignore[no-any-return]

        # B has the product and (no) promotions in memory, past its first poll.
        for _ in range(3):
            assert quote()["goods_fen"] == 5000
            time.sleep(0.1)

        edit = {"title": "茶叶", "skus": [{"id": sku, "name": "默认", "price_fen": 4200, "stock": 100}]}
        _ok(a.put(f"{ADMIN}/products/{prod['id']}", json=edit, headers=boss))
        took = _until(lambda: quote()["goods_fen"] == 4200)
        print(f"price edit seen by B after {took:.3f} s")
        assert took <= BOUND, f"B priced the old price for {took:.2f} s"

        promo = {
            "kind": "full_reduction",
            "name": "满40减5",
            "tiers": [{"threshold": 4000, "amount_fen": 500}],
            "starts_at": "2000-01-01T00:00:00+00:00",
            "ends_at": "2099-01-01T00:00:00+00:00",
        }
        p = _ok(a.post(f"{ADMIN}/promotions", json=promo, headers=boss), 201)
        took = _until(lambda: quote()["discount_fen"] == 500)
        print(f"new promotion seen by B after {took:.3f} s")
        assert took <= BOUND, f"B priced without the new promotion for {took:.2f} s"

        _ok(a.put(f"{ADMIN}/promotions/{p['id']}", json={"status": "paused"}, headers=boss))
        took = _until(lambda: quote()["discount_fen"] == 0)
        print(f"paused promotion seen by B after {took:.3f} s")
        assert took <= BOUND, f"B priced the paused promotion for {took:.2f} s"

        # And the order B places is priced as its preview: the new price, no paused promotion.
        oid = _ok(b.post("/api/v1/orders", json={**items, "address": ADDRESS}, headers=me), 201)["id"]
        order = _ok(b.get(f"/api/v1/orders/{oid}", headers=me))
        assert (order["goods_fen"], order["discount_fen"]) == (4200, 0)
