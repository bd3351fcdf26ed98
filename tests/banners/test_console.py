"""The console's 首页轮播 page: a banner added through the form (素材库 image, a product from the picker,
a window typed in the shop's zone) lands in the shop's list; mistakes read in Chinese beside their field;
move and delete; a read-only role sees the page without the buttons."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from fissionmall.banners.models import Banner
from tests.console_helpers import console
from tests.helpers import admin, product
from tests.media.helpers import image_bytes


async def _image(client, db) -> dict[str, Any]:
    owner = await admin(client, db, username="img-owner")
    files = {"file": ("b.png", image_bytes("PNG", (750, 300)), "image/png")}
    r = await client.post("/api/admin/v1/media", files=files, headers=owner)
    assert r.status_code == 201, r.text
    return {**r.json(), "owner": owner}


async def _count(db) -> int:
    async with db.read() as s:
        return int(await s.scalar(select(func.count()).select_from(Banner)) or 0)


async def test_a_banner_round_trips_through_the_console_form(client, db):
    img = await _image(client, db)
    p = await product(client, img["owner"], title="秒杀爆款")
    csrf = await console(client, db, "operator")
    page = await client.get("/admin/banners/new")
    assert page.status_code == 200 and "data-single" in page.text and "data-product-picker" in page.text
    form = {
        "csrf_token": csrf,
        "image": img["url"],
        "title": "限时秒杀",
        "link_kind": "product",
        "product_id": str(p["id"]),
        "active": "on",
        "starts_at": "2026-01-01T08:00",
        "ends_at": "2099-12-31T20:00",
    }
    r = await client.post("/admin/banners/new", data=form)
    assert r.status_code == 303, r.text
    async with db.read() as s:
        b = await s.scalar(select(Banner))
    assert (b.title, b.link_kind, b.product_id, b.image) == ("限时秒杀", "product", p["id"], img["url"])
    assert b.starts_at.isoformat() == "2026-01-01T00:00:00+00:00"  # 08:00 in Asia/Shanghai
    shop = (await client.get("/api/v1/banners")).json()["items"]
    assert [(x["title"], x["link"]) for x in shop] == [("限时秒杀", f"#/p/{p['id']}")]
    listing = await client.get("/admin/banners")
    assert "限时秒杀" in listing.text and "商品：秒杀爆款" in listing.text and "展示中" in listing.text
    edit = await client.get(f"/admin/banners/{b.id}")
    assert 'value="2026-01-01T08:00"' in edit.text and "秒杀爆款" in edit.text


async def test_mistakes_read_in_chinese_beside_their_fields_and_nothing_is_saved(client, db):
    csrf = await console(client, db, "operator")
    form = {"csrf_token": csrf, "title": "x" * 41, "link_kind": "product", "starts_at": "明天", "ends_at": ""}
    r = await client.post("/admin/banners/new", data=form)
    assert r.status_code == 422
    for path, text in (
        ("image", "请上传或从素材库选择一张图片"),
        ("product_id", "请选择跳转的商品"),
        ("starts_at", "开始时间格式不正确"),
    ):
        assert f'data-error-for="{path}">{text}' in r.text, path
    assert "标题最多 40 个字" in r.text
    img = await _image(client, db)
    form = {
        "csrf_token": csrf,
        "image": img["url"],
        "title": "窗口",
        "link_kind": "coupons",
        "starts_at": "2026-12-05T10:00",
        "ends_at": "2026-12-05T09:00",
    }
    r = await client.post("/admin/banners/new", data=form)
    assert r.status_code == 422 and 'data-error-for="ends_at">结束时间须晚于开始时间' in r.text
    assert await _count(db) == 0


async def test_move_delete_and_a_read_only_role(client, db):
    img = await _image(client, db)
    for title in ("A", "B"):
        body = {"image": img["id"], "title": title}
        assert (await client.post("/api/admin/v1/banners", json=body, headers=img["owner"])).status_code == 201
    async with db.read() as s:
        a, b = (await s.scalars(select(Banner).order_by(Banner.sort_order))).all()
    csrf = await console(client, db, "operator")
    r = await client.post(f"/admin/banners/{b.id}/move", data={"csrf_token": csrf, "direction": "up"})
    assert r.status_code == 303
    assert [x["title"] for x in (await client.get("/api/v1/banners")).json()["items"]] == ["B", "A"]
    r = await client.post(f"/admin/banners/{a.id}/delete", data={"csrf_token": csrf})
    assert r.status_code == 303 and await _count(db) == 1
    assert (await client.post(f"/admin/banners/{a.id}/delete", data={"csrf_token": csrf})).status_code == 404
    await console(client, db, "finance")  # catalog.read: sees the list, no buttons
    page = await client.get("/admin/banners")
    assert page.status_code == 200 and "B" in page.text and "添加轮播图" not in page.text and "删除" not in page.text
    assert (await client.get("/admin/banners/new")).status_code == 403
