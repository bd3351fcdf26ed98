"""Browser tests: a real `uvicorn` server with the demo shop, driven by Debian's Chromium.

The server gets its own database (a SQLite file, or a fresh PostgreSQL database
on the postgres pass) loaded by the same `load_demo` as `make demo`, and runs
the job worker inside, as the embedded default does. Screenshots go to
tests/browser/artifacts/ (git-ignored).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from fissionmall.core.migrate import upgrade
from fissionmall.demo.loader import load_demo
from fissionmall.settings import Settings
from tests.conftest import BACKEND, CI, PG_URL, REDIS_URL, RUN_ID, _pg_admin

CHROMIUM = os.environ.get("FISSIONMALL_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).parent / "artifacts"
ADMIN_PASSWORD = "browser-test-pass"

pytestmark = pytest.mark.browser


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Base URL and admin login of a running demo server."""
    var = tmp_path_factory.mktemp("browser-var")
    env = {**os.environ, "FISSIONMALL_ENV": "dev", "FISSIONMALL_VAR_DIR": str(var),
           "FISSIONMALL_SECRET_KEY": "browser-secret-" + "y" * 32, "FISSIONMALL_EMBEDDED_WORKER": "true",
           "FISSIONMALL_WORKER_POLL_SECONDS": "0.2", "FISSIONMALL_REDIS_PREFIX": f"fmbrowser:{RUN_ID}:"}
    pg_name = None
    if BACKEND == "postgres":
        pg_name = f"fm_browser_{RUN_ID}"
        asyncio.run(_pg_admin(f'CREATE DATABASE "{pg_name}"'))
        env["FISSIONMALL_DATABASE_URL"] = f"{PG_URL.rsplit('/', 1)[0]}/{pg_name}"
        env["FISSIONMALL_REDIS_URL"] = REDIS_URL
    settings = Settings(env="dev", var_dir=var, database_url=env.get("FISSIONMALL_DATABASE_URL", ""))
    upgrade(settings.db_url)
    asyncio.run(load_demo(settings, admin_password=ADMIN_PASSWORD))
    port = _free_port()
    log = open(var / "server.log", "w")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "fissionmall.asgi:app", "--host", "127.0.0.1", "--port", str(port)],
        env=env, stdout=log, stderr=subprocess.STDOUT,
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
            asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        msg = f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
        if CI:
            pytest.fail(msg, pytrace=False)
        pytest.skip(msg)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        )
        yield b
        b.close()


@pytest.fixture
def mobile(browser: Any) -> Iterator[Any]:
    """A phone-sized page, as a shopper in WeChat would see the H5 shop."""
    ctx = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True,
                              has_touch=True, locale="zh-CN")
    page = ctx.new_page()
    page.set_default_timeout(15_000)
    yield page
    ctx.close()


@pytest.fixture
def desktop(browser: Any) -> Iterator[Any]:
    ctx = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    page = ctx.new_page()
    page.set_default_timeout(15_000)
    yield page
    ctx.close()


def shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
