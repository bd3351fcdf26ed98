"""What the marketing-tool benchmarks (bench/groupbuy.py, bench/bargain.py) share: a JSON client on one
keep-alive connection, shopper login, and a fresh migrated database with the app served on it.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from bench.common import Server, log, workspace
from bench.loadgen import RawConn
from bench.orders import _create_admin, _pg_exec, _redis_cleanup

PG_URL = os.environ.get("FISSIONMALL_BENCH_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("FISSIONMALL_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")


class Client:
    """JSON over one RawConn."""

    def __init__(self, port: int) -> None:
        self.conn = RawConn("127.0.0.1", port)

    async def call(self, method: str, path: str, body: Any = None, token: str | None = None) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token else None
        raw = None if body is None else json.dumps(body).encode()
        status, content = await self.conn.request(method, path, raw, headers)
        return status, (json.loads(content) if content else None)


async def login(c: Client, code: str) -> str:
    """A sandbox WeChat login: the shopper's token."""
    status, body = await c.call("POST", "/api/v1/auth/wechat-login", {"code": code})
    assert status == 200, body
    return str(body["token"])


@contextmanager
def served(name: str, backend: str, *, prepare: Callable[[str], None] | None = None) -> Iterator[tuple[str, Server]]:
    """A fresh database (PostgreSQL + Redis, or SQLite), migrated, with the bench admin, `prepare(db_url)`
    run on it, and the app served by uvicorn with its embedded worker: (db_url, server). Dropped after."""
    from fissionmall.core.migrate import upgrade

    pid = os.getpid()
    tmp, var, env = workspace(f"fmbench-{name}-{backend}-", FISSIONMALL_WORKER_POLL_SECONDS="0.2")
    admin_dsn = PG_URL.replace("postgresql+asyncpg://", "postgresql://")
    db_name, redis_prefix = f"fm_bench_{name}_{pid}", f"fmbench:{name}:{pid}:"
    created = False
    server: Server | None = None
    try:
        if backend == "sqlite":
            db_url = f"sqlite+aiosqlite:///{(var / 'fissionmall.db').resolve()}"
        else:
            asyncio.run(_pg_exec(admin_dsn, f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)'))
            asyncio.run(_pg_exec(admin_dsn, f'CREATE DATABASE "{db_name}"'))
            created = True
            db_url = f"{PG_URL.rsplit('/', 1)[0]}/{db_name}"
            env.update(FISSIONMALL_DATABASE_URL=db_url, FISSIONMALL_REDIS_URL=REDIS_URL,
                       FISSIONMALL_REDIS_PREFIX=redis_prefix)  # fmt: skip
        upgrade(db_url)
        asyncio.run(_create_admin(db_url))
        if prepare is not None:
            prepare(db_url)
        server = Server("fissionmall.asgi:app", env=env, cwd=tmp, log_path=tmp / "server.log")
        server.start("/healthz")
        yield db_url, server
    finally:
        if server is not None:
            server.stop()
        if created:
            try:
                asyncio.run(_pg_exec(admin_dsn, f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)'))
                asyncio.run(_redis_cleanup(REDIS_URL, redis_prefix))
            except Exception as exc:
                log(f"cleanup failed: {exc}")
        shutil.rmtree(tmp, ignore_errors=True)
