"""The shop reads its error texts from the server's table (GET /api/v1/error-codes), loaded once per tab:
a refusal shows the table's Chinese even when the server's message is English, and never English."""

from __future__ import annotations

from typing import Any

import httpx
from playwright.sync_api import Page, expect

TEXT = "(err) => import('/static/shop/ui.js').then((m) => m.errorText(err))"


def test_the_shop_loads_the_table_once_and_shows_its_chinese(live_server: dict[str, Any], phone: Page) -> None:
    page, base = phone, live_server["base_url"]
    table = httpx.get(f"{base}/api/v1/error-codes").json()["codes"]
    loads: list[str] = []
    page.on("request", lambda r: loads.append(r.url) if "/api/v1/error-codes" in r.url else None)

    page.goto(f"{base}/shop/#/p/999999999")  # a product that does not exist: PRODUCT_NOT_FOUND
    expect(page.get_by_text(table["PRODUCT_NOT_FOUND"])).to_be_visible()
    page.wait_for_function("() => sessionStorage.getItem('fm.errorCodes') !== null")

    # The code's text wins over whatever the server said, so an English message never shows.
    assert (
        page.evaluate(TEXT, {"code": "GROUP_FULL", "message": "this group is already complete"})
        == (table["GROUP_FULL"])
    )
    assert (
        page.evaluate(TEXT, {"code": "ORDER_STATE_INVALID", "message": "cannot pay"}) == (table["ORDER_STATE_INVALID"])
    )
    # A code the table lacks: a Chinese server message is shown, an English one is not.
    assert page.evaluate(TEXT, {"code": "BRAND_NEW", "message": "新的拒绝原因"}) == "新的拒绝原因"
    assert page.evaluate(TEXT, {"code": "BRAND_NEW", "message": "brand new"}) == "操作未成功，请稍后重试（BRAND_NEW）"
    assert page.evaluate(TEXT, {"code": "NETWORK", "message": ""}) == "网络不给力，请稍后重试"

    page.reload()  # the tab keeps the table: no second request
    expect(page.get_by_text(table["PRODUCT_NOT_FOUND"])).to_be_visible()
    assert len(loads) == 1, loads
