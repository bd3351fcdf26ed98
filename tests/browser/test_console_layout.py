"""The console's layout in Chromium: the grouped sidebar with its icons, one form style for every input, and
errors from the server in Chinese instead of the browser's validation bubbles."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import ARTIFACTS, shot

pytestmark = pytest.mark.browser

BORDER = ("border-top-width", "border-top-style", "border-top-color", "border-radius", "height", "font-size")


def _login(page: Page, server: dict[str, Any]) -> None:
    page.goto(server["base_url"] + "/admin/login")
    page.get_by_label("用户名").fill(server["admin_user"])
    page.get_by_label("密码").fill(server["admin_password"])
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(server["base_url"] + "/admin/")


def _style(page: Page, selector: str) -> dict[str, str]:
    return page.locator(selector).first.evaluate(
        "(el, names) => Object.fromEntries(names.map((n) => [n, getComputedStyle(el).getPropertyValue(n)]))",
        list(BORDER),
    )


def test_the_sidebar_is_grouped_with_icons(live_server: dict[str, Any], desktop: Page) -> None:
    page = desktop
    _login(page, live_server)
    sidebar = page.locator("#sidebar")
    ARTIFACTS.mkdir(exist_ok=True)
    sidebar.screenshot(path=str(ARTIFACTS / "console-sidebar.png"))
    headings = sidebar.locator(".nav-heading").all_inner_texts()
    assert headings[:3] == ["商品", "订单/售后", "营销"] and headings[-1] == "系统"
    assert set(headings) <= {"商品", "订单/售后", "营销", "分销", "客户", "财务", "设置", "系统"}
    nav = page.get_by_role("navigation", name="主导航")
    system = nav.locator('[data-section="system"]')
    for label in ("任务/死信", "支付通知", "开发者"):
        expect(system.get_by_role("link", name=label, exact=True)).to_be_visible()
    expect(nav.locator('[data-section="finance"]').get_by_role("link", name="佣金提现", exact=True)).to_be_visible()
    expect(nav.locator('[data-section="settings"]').get_by_role("link", name="运费模板", exact=True)).to_be_visible()
    # Every row has its drawn icon, visible at its size (inline SVG: nothing fetched, nothing blocked).
    rows = nav.locator(".nav-item")
    assert rows.count() == nav.locator(".nav-item > svg.icon").count() >= 15
    box = rows.first.locator("svg").bounding_box()
    assert box is not None and box["width"] == 18 and box["height"] == 18
    # The whole list fits the sidebar (it scrolls inside it) and the last row can be reached.
    nav.get_by_role("link", name="开发者", exact=True).scroll_into_view_if_needed()
    expect(nav.get_by_role("link", name="开发者", exact=True)).to_be_in_viewport()

    # A narrow window folds the sidebar into a top bar with 菜单.
    page.set_viewport_size({"width": 760, "height": 900})
    expect(nav).to_be_hidden()
    page.get_by_role("button", name="菜单").click()
    expect(nav.get_by_role("link", name="订单", exact=True)).to_be_visible()
    shot(page, "console-sidebar-narrow")


def test_every_input_kind_has_the_text_inputs_border(live_server: dict[str, Any], desktop: Page) -> None:
    page = desktop
    _login(page, live_server)
    page.goto(live_server["base_url"] + "/admin/seckill/new")
    text = _style(page, 'input[name="title"]')
    assert text["border-top-style"] == "solid" and text["border-top-width"] == "1px"
    assert _style(page, 'input[type="datetime-local"]') == text
    assert _style(page, 'input[type="number"]') == text
    page.goto(live_server["base_url"] + "/admin/orders")
    date, search = _style(page, 'input[type="date"]'), _style(page, 'input[type="search"], input[name="q"]')
    assert date["border-top-color"] == search["border-top-color"] and date["height"] == search["height"]


def test_an_empty_required_form_gets_chinese_errors_not_a_bubble(live_server: dict[str, Any], desktop: Page) -> None:
    page = desktop
    _login(page, live_server)
    page.goto(live_server["base_url"] + "/admin/seckill/new")
    source = page.request.get(live_server["base_url"] + "/admin/seckill/new").text()
    assert (
        re.search(r'<form [^>]*id="session-form"[^>]*>', source)
        and "novalidate" not in source.split("session-form")[1][:20]
    )
    form = page.locator("#session-form")
    assert form.evaluate("(f) => f.noValidate") is True
    with page.expect_navigation():
        form.get_by_role("button", name=re.compile("创建|保存")).first.click()
    errors = page.locator(".field-error, .alert-error")
    expect(errors.first).to_be_visible()
    text = " ".join(errors.all_inner_texts())
    assert re.search(r"[\u4e00-\u9fff]", text) and not re.search(r"[A-Za-z]{4,}", text), text
    # The browser was never asked to validate: no field reports the browser's own message.
    assert page.evaluate("() => [...document.forms].every((f) => f.noValidate)")
    shot(page, "console-form-errors")
