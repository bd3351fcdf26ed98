"""The shop's events in the browser: a share link opened on a product page sends `share_open` and
`page_view` in one small batch (the server stores them: 202), a later screen its own view, and a copied
share link a `share`; the events carry the page, the product and the share code."""

from __future__ import annotations

import json
from typing import Any

import pytest
from playwright.sync_api import Page

from tests.browser.test_shop import _demo_product

pytestmark = pytest.mark.browser


def _batch(page: Page, action: Any) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    with page.expect_response(lambda r: r.url.endswith("/api/v1/events"), timeout=15_000) as got:
        action()
    res = got.value
    assert res.status == 202, res.text()
    return json.loads(res.request.post_data or "{}")["events"], res.json()


def test_a_share_link_sends_its_open_and_views_in_batches(live_server: dict[str, Any], phone: Page) -> None:
    base = live_server["base_url"]
    p = _demo_product(base, "赣南脐橙")
    events, stored = _batch(phone, lambda: phone.goto(f"{base}/shop/?ref=NOBODY42#/p/{p['id']}"))
    assert [e["type"] for e in events] == ["share_open", "page_view"]
    assert all(e["page"] == f"product:{p['id']}" and e["product_id"] == p["id"] for e in events)
    assert events[0]["ref"] == "NOBODY42" and len({e["id"] for e in events}) == 2
    assert stored == {"received": 2, "stored": 2}
    events, _ = _batch(phone, lambda: phone.evaluate("location.hash = '#/'"))
    assert [(e["type"], e["page"]) for e in events] == [("page_view", "home")]
