"""Browser tests: the `live_server` demo shop (tests/conftest.py) driven by Debian's Chromium.

Screenshots go to tests/browser/artifacts/ (git-ignored).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page

from tests.conftest import CI

CHROMIUM = os.environ.get("FISSIONMALL_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).parent / "artifacts"

pytestmark = pytest.mark.browser


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
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield b
        b.close()


@pytest.fixture
def mobile(browser: Any) -> Iterator[Any]:
    """A phone-sized page, as a shopper in WeChat would see the H5 shop."""
    ctx = browser.new_context(
        viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True, has_touch=True, locale="zh-CN"
    )
    page = ctx.new_page()
    page.set_default_timeout(15_000)
    yield page
    ctx.close()


@pytest.fixture
def phone(mobile: Any) -> Iterator[Any]:
    """The phone page, failing the test on any uncaught script error in the shop."""
    errors: list[str] = []
    mobile.on("pageerror", lambda exc: errors.append(str(exc)))
    yield mobile
    assert errors == []


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


def admin_client(base: str, server: dict[str, Any]) -> httpx.Client:
    """An admin API client logged in as the live server's owner."""
    r = httpx.post(
        f"{base}/api/admin/v1/auth/login",
        json={"username": server["admin_user"], "password": server["admin_password"]},
        timeout=10,
    )
    assert r.status_code == 200, r.text
    return httpx.Client(base_url=base, headers={"Authorization": f"Bearer {r.json()['token']}"}, timeout=10)


def pick_region(page: Page, region: str) -> None:
    """Choose 省 / 市 / 区 in the picker's selects (a municipality has no 城市 select)."""
    parts = region.split()
    page.get_by_label("省份").select_option(label=parts[0])
    if len(parts) == 3:
        page.get_by_label("城市").select_option(label=parts[1])
    if len(parts) > 1:
        page.get_by_label("区县").select_option(label=parts[-1])
