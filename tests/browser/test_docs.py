"""/docs and /redoc render in Chromium with the internet cut off: every request to a host other than the
server is aborted (and recorded), and the pages still show the API's title and its operations, under their
Content-Security-Policy with no violation and no script error."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, Route, expect

from tests.browser.conftest import ARTIFACTS, shot

pytestmark = pytest.mark.browser

LOOPBACK = {"127.0.0.1", "localhost", "[::1]", "::1"}


@pytest.fixture
def offline(desktop: Page) -> Iterator[tuple[Page, list[str], list[str]]]:
    """The desktop page with every non-loopback request aborted: (page, blocked URLs, problems seen)."""
    blocked: list[str] = []
    problems: list[str] = []

    def route(r: Route) -> None:
        url = r.request.url
        if url.startswith(("data:", "blob:")) or urlsplit(url).hostname in LOOPBACK:
            r.continue_()
        else:
            blocked.append(url)
            r.abort("internetdisconnected")

    desktop.context.route("**/*", route)

    def on_console(m: Any) -> None:
        if "Content Security Policy" in m.text or m.type == "error":
            problems.append(f"{m.text} ({(m.location or {}).get('url', '')})")

    desktop.on("console", on_console)
    desktop.on("pageerror", lambda exc: problems.append(f"pageerror: {exc}"))
    desktop.add_init_script(
        "document.addEventListener('securitypolicyviolation', (e) => "
        "console.error('Content Security Policy violation: ' + e.violatedDirective + ' ' + e.blockedURI));"
    )
    yield desktop, blocked, problems


def test_the_blocking_itself_works(live_server: dict[str, Any], offline) -> None:
    page, blocked, _ = offline
    page.goto(live_server["base_url"] + "/healthz")
    # evaluate waits for the fetch's promise, so the abort has happened when it returns
    page.evaluate("fetch('https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui.css').catch(() => null)")
    assert any("cdn.jsdelivr.net" in u for u in blocked)


def test_swagger_ui_renders_the_api_offline(live_server: dict[str, Any], offline) -> None:
    page, blocked, problems = offline
    page.goto(live_server["base_url"] + "/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("fissionmall")
    expect(page.locator(".opblock").first).to_be_visible()
    # Swagger UI renders only the operations near the viewport: the whole list is there once the last
    # tag's operations show at the bottom of the page.
    for _ in range(30):
        page.mouse.wheel(0, 4000)
        if page.get_by_text("/api/v1/wechat/subscribe-templates").count():
            break
    expect(page.get_by_text("/api/v1/wechat/subscribe-templates")).to_be_visible()
    page.mouse.wheel(0, -(10**6))
    page.locator(".opblock-summary").first.click()  # an operation opens: the viewer is live, not a picture
    expect(page.locator(".opblock.is-open").first).to_be_visible()
    page.wait_for_load_state("networkidle")
    shot(page, "docs-swagger-offline")
    assert blocked == []  # nothing even tried another host
    assert problems == []


def test_redoc_renders_the_api_offline(live_server: dict[str, Any], offline) -> None:
    page, blocked, problems = offline
    page.goto(live_server["base_url"] + "/redoc")
    expect(page.locator("h1").first).to_contain_text("fissionmall", timeout=30_000)
    operations = page.locator("[data-section-id^='operation/']")
    expect(operations.first).to_be_attached()
    assert operations.count() > 20
    page.wait_for_load_state("networkidle")
    # The viewport only: Redoc lays every operation out in one page some 100,000 px tall, and a full-page
    # picture of it outran the 15 s timeout on a busy machine.
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "docs-redoc-offline.png"))
    assert blocked == []
    # Redoc's sidebar credit ("API docs by Redocly") is an <img> from cdn.redoc.ly: the policy refuses it, so
    # the browser never asks for it (blocked is empty). That refusal is the policy working; nothing else may.
    assert [p for p in problems if "cdn.redoc.ly/redoc/logo-mini.svg" not in p] == []
