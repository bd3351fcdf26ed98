"""The media library and the gallery widget in Chromium: upload several images at once, see their
thumbnails and per-file errors, reorder and set the cover, pick from the library, submit in order."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import shot
from tests.browser.test_console import _login
from tests.media.helpers import image_bytes

pytestmark = pytest.mark.browser


def _png(name: str, colour: tuple[int, int, int], size: tuple[int, int] = (1600, 900)) -> dict[str, Any]:
    return {"name": name, "mimeType": "image/png", "buffer": image_bytes("PNG", size, colour=colour)}


def _order(page: Page) -> list[str]:
    return page.locator(".gallery-item input[type=hidden]").evaluate_all("els => els.map(e => e.value)")


def test_upload_several_images_and_arrange_them_in_the_widget(live_server, desktop) -> None:
    page: Page = desktop
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda m: errors.append(m.text) if "Content Security Policy" in m.text else None)
    _login(page, live_server, "/admin/media")

    # Two images and a text file named .jpg, chosen at once in the picker.
    page.locator("[data-media-input]").set_input_files(
        [
            _png("红色主图.png", (220, 40, 40)),
            _png("蓝色细节.png", (40, 60, 220)),
            {"name": "假图片.jpg", "mimeType": "image/jpeg", "buffer": "只是文字".encode()},
        ]
    )
    grid = page.locator("#media-grid")
    expect(grid.locator(".media-tile")).to_have_count(2)
    expect(grid.locator(".media-tile img").first).to_have_attribute("src", re.compile(r"^/media/lib/.+_t\.jpg$"))
    expect(grid).to_contain_text("1200×675")
    expect(page.locator(".media-progress-item.failed")).to_contain_text("文件不是图片")
    expect(page.locator(".media-progress-item.done")).to_have_count(2)
    assert grid.locator("img").first.evaluate("img => img.complete && img.naturalWidth") == 360
    shot(page, "media-library")
    page.reload()  # they are in the library, not only on the page
    expect(page.locator("#media-grid .media-tile")).to_have_count(2)

    # The widget: upload two more, the first is the cover.
    page.goto(live_server["base_url"] + "/admin/media/try")
    gallery = page.locator(".media-gallery")
    gallery.locator(".gallery-upload input").set_input_files(
        [_png("一.png", (10, 200, 10), (800, 800)), _png("二.png", (200, 200, 10), (800, 800))]
    )
    items = gallery.locator(".gallery-item")
    expect(items).to_have_count(2)
    one, two = _order(page)
    expect(items.first).to_have_class(re.compile(r"\bcover\b"))
    expect(items.first.locator(".gallery-badge")).to_be_visible()

    # 设为封面 moves the second first; dragging puts it back.
    items.nth(1).get_by_role("button", name="设为封面").click()
    assert _order(page) == [two, one]
    expect(items.first).to_have_class(re.compile(r"\bcover\b"))
    page.drag_and_drop(".gallery-item:nth-child(2)", ".gallery-item:nth-child(1)")
    assert _order(page) == [one, two]

    # 从素材库选择: the library opens as a dialog; pick the red image (the oldest of the library's four).
    page.get_by_role("button", name="从素材库选择").click()
    dialog = page.locator("dialog.media-dialog")
    expect(dialog.locator(".media-tile")).to_have_count(4)
    dialog.locator(".media-tile").last.click()
    dialog.get_by_role("button", name="添加所选").click()
    expect(items).to_have_count(3)
    red = _order(page)[2]
    # 删除 removes one.
    items.nth(1).get_by_role("button", name="删除").click()
    assert _order(page) == [one, red]
    shot(page, "media-widget")

    page.get_by_role("button", name="提交").click()
    submitted = page.locator("#submitted li")
    expect(submitted).to_have_count(2)
    assert submitted.all_inner_texts() == [one, red]
    # The answer's form shows the images again, enhanced.
    expect(page.locator(".gallery-item")).to_have_count(2)
    assert errors == []
