"""Test harness: the same tests on SQLite, and on real PostgreSQL + Redis.

FISSIONMALL_TEST_DB=sqlite|postgres picks the backend. Under CI=true a missing
PostgreSQL or Redis fails the run instead of skipping it. Each pytest process
gets its own PostgreSQL database and Redis key prefix, so runs never collide;
tables are emptied before each test.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from argon2 import PasswordHasher
from sqlalchemy import inspect, text

from fissionmall.app import create_app
from fissionmall.core import clock, security
from fissionmall.core.db import Database, get_db
from fissionmall.core.migrate import upgrade
from fissionmall.demo.campaigns import load_campaigns
from fissionmall.demo.loader import load_demo
from fissionmall.models import Base
from fissionmall.seckill import memory as seckill_memory
from fissionmall.settings import Settings, use_settings

# Argon2 at its production cost (64 MiB, 3 passes) is ~0.2 s per login on an idle core and several times
# that with both passes running: most tests log an operator in, so the suite hashes at the lowest cost.
# What the tests check (a wrong password refused, a hash never stored in clear) does not depend on it.
security._hasher = PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)

BACKEND = os.environ.get("FISSIONMALL_TEST_DB", "sqlite")
CI = os.environ.get("CI", "").lower() == "true"
PG_URL = os.environ.get("FISSIONMALL_TEST_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("FISSIONMALL_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
RUN_ID = f"{os.getpid()}_{secrets.token_hex(3)}"


def _unavailable(what: str, exc: BaseException) -> None:
    msg = f"{what} is not reachable ({exc}); it is required for FISSIONMALL_TEST_DB=postgres"
    if CI:
        pytest.fail(msg, pytrace=False)
    pytest.skip(msg)


async def _pg_admin(sql: str) -> None:
    import asyncpg

    dsn = PG_URL.replace("postgresql+asyncpg://", "postgresql://")
    conn = await asyncpg.connect(dsn, timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def _redis_ping() -> None:
    import redis.asyncio as aioredis

    r = aioredis.from_url(REDIS_URL)
    try:
        await r.ping()
    finally:
        await r.aclose()


@pytest.fixture(scope="session")
def backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """Database (migrated from empty by Alembic) and Redis URLs for this run."""
    if BACKEND == "sqlite":
        path = tmp_path_factory.mktemp("db") / "test.db"
        url = f"sqlite+aiosqlite:///{path}"
        upgrade(url)
        yield {"db": url, "redis": "", "name": "sqlite"}
        return
    name = f"fm_test_{RUN_ID}"
    try:
        asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        _unavailable("PostgreSQL", exc)
    try:
        asyncio.run(_redis_ping())
    except Exception as exc:
        _unavailable("Redis", exc)
    base = PG_URL.rsplit("/", 1)[0]
    url = f"{base}/{name}"
    upgrade(url)
    yield {"db": url, "redis": REDIS_URL, "name": "postgres"}
    asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def settings(backend: dict[str, str], tmp_path: Path) -> Settings:
    s = Settings(
        env="dev",
        database_url=backend["db"],
        redis_url=backend["redis"],
        redis_prefix=f"fmtest:{RUN_ID}:",
        secret_key="test-secret-" + "x" * 32,
        var_dir=tmp_path / "var",
        embedded_worker=False,
        login_rate_per_minute=10_000,
        order_rate_per_minute=10_000,
    )
    use_settings(s)
    return s


async def _empty_tables(db: Database) -> None:
    # Only tables the migrations made: a model without its migration yet is test_migrations' to report,
    # not a reason for every other test to fail.
    async with db.read() as s:
        existing = set(await s.run_sync(lambda sync: inspect(sync.connection()).get_table_names()))
    tables = [t.name for t in reversed(Base.metadata.sorted_tables) if t.name in existing]
    async with db.tx() as s:
        if db.is_sqlite:
            for t in tables:
                await s.execute(text(f'DELETE FROM "{t}"'))
        else:
            await s.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))


async def _empty_redis(settings: Settings) -> None:
    if not settings.redis_url:
        return
    import redis.asyncio as aioredis

    r = aioredis.from_url(settings.redis_url)
    try:
        keys = [k async for k in r.scan_iter(match=settings.redis_prefix + "*", count=1000)]
        if keys:
            await r.delete(*keys)
    finally:
        await r.aclose()


@asynccontextmanager
async def running_app(settings: Settings, *, on_start: Callable[[], None] | None = None) -> AsyncIterator[Any]:
    """The app with its lifespan running on empty tables (no background worker: tests run jobs
    explicitly). `on_start` runs right after startup, e.g. to point a gateway at a fake."""
    clock.reset()
    application = create_app(settings, run_worker=False)
    async with application.router.lifespan_context(application):
        if on_start is not None:
            on_start()
        await _empty_tables(get_db())
        await _empty_redis(settings)
        seckill_memory.forget_hints()  # item ids start again on the emptied tables
        yield application
    clock.reset()
    use_settings(None)


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[Any]:
    async with running_app(settings) as application:
        yield application


@pytest.fixture
def db(app: Any) -> Database:
    return get_db()


@pytest.fixture
async def client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=("10.1.2.3", 5555))
    async with httpx.AsyncClient(transport=transport, base_url="http://shop.test", timeout=60) as c:
        yield c


ADMIN_PASSWORD = "live-server-pass"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _run_in_thread(coro: Any) -> Any:
    """asyncio.run from a thread: Playwright's sync API may hold this thread's event loop."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


@pytest.fixture(scope="module")
def live_server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A real `uvicorn` demo server for one test module (so one tool's browser test cannot move another's
    clock or data): its own database (SQLite file, or a fresh PostgreSQL database on the postgres pass)
    loaded by `load_demo` as `make demo` does, the job worker running inside as in the embedded default.
    A module with `DEMO_CAMPAIGNS = True` gets the whole `make demo` (coupons, flash sales, a group, a distributor).
    Yields its base URL and admin login."""
    var = tmp_path_factory.mktemp("browser-var")
    tag = f"{RUN_ID}_{secrets.token_hex(2)}"
    env = {
        **os.environ,
        "FISSIONMALL_ENV": "dev",
        "FISSIONMALL_VAR_DIR": str(var),
        "FISSIONMALL_SECRET_KEY": "browser-secret-" + "y" * 32,
        "FISSIONMALL_EMBEDDED_WORKER": "true",
        "FISSIONMALL_WORKER_POLL_SECONDS": "0.2",
        "FISSIONMALL_REDIS_PREFIX": f"fmbrowser:{tag}:",
    }
    pg_name = None
    if BACKEND == "postgres":
        pg_name = f"fm_browser_{tag}"
        _run_in_thread(_pg_admin(f'CREATE DATABASE "{pg_name}"'))
        env["FISSIONMALL_DATABASE_URL"] = f"{PG_URL.rsplit('/', 1)[0]}/{pg_name}"
        env["FISSIONMALL_REDIS_URL"] = REDIS_URL
    settings = Settings(env="dev", var_dir=var, database_url=env.get("FISSIONMALL_DATABASE_URL", ""))
    upgrade(settings.db_url)
    _run_in_thread(load_demo(settings, admin_password=ADMIN_PASSWORD))
    if getattr(request.module, "DEMO_CAMPAIGNS", False):
        same = {"secret_key": env["FISSIONMALL_SECRET_KEY"], "redis_url": env.get("FISSIONMALL_REDIS_URL", "")}
        campaigns = settings.model_copy(update={**same, "redis_prefix": env["FISSIONMALL_REDIS_PREFIX"]})
        _run_in_thread(load_campaigns(campaigns, admin_password=ADMIN_PASSWORD))
    port = _free_port()
    log = open(var / "server.log", "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "fissionmall.asgi:app", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError("server did not start:\n" + (var / "server.log").read_text())
        time.sleep(0.2)
    try:
        yield {"base_url": base, "admin_user": "admin", "admin_password": ADMIN_PASSWORD, "var": var}
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
        if pg_name:
            _run_in_thread(_pg_admin(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)'))
