"""The console's 运费模板 pages: a template typed in 元 with a province rule, a free-shipping condition
and a not-delivered province round-trips through the form; mistakes read in Chinese beside their row."""

from __future__ import annotations

from sqlalchemy import func, select

from fissionmall.shipping.models import ShippingTemplate
from tests.console_helpers import console


def form(csrf: str, **over: str | list[str]) -> dict[str, str | list[str]]:
    data: dict[str, str | list[str]] = {
        "csrf_token": csrf,
        "name": "普通快递",
        "mode": "piece",
        "d_first_units": "1",
        "d_first_fee": "8",
        "d_additional_units": "1",
        "d_additional_fee": "4.5",
        "rule_rows": "2",
        "r0_regions": ["650000", "540000"],
        "r0_first_units": "1",
        "r0_first_fee": "20",
        "r0_additional_units": "1",
        "r0_additional_fee": "10",
        "free_rows": "1",
        "f0_min_amount": "99",
        "not_delivered": ["710000"],
    }
    return {**data, **over}


async def test_a_template_round_trips_through_the_console_form(client, db):
    csrf = await console(client, db, "operator")
    page = await client.get("/admin/shipping/new")
    assert page.status_code == 200 and "novalidate" in page.text and "华东" in page.text and "新疆" in page.text
    r = await client.post("/admin/shipping/new", data=form(csrf))
    assert r.status_code == 303, r.text
    async with db.read() as s:
        t = await s.scalar(select(ShippingTemplate))
    assert t is not None and t.is_default
    assert t.default_rule == {"first_units": 1, "first_fee_fen": 800, "additional_units": 1, "additional_fee_fen": 450}
    assert t.rules == [
        {
            "first_units": 1,
            "first_fee_fen": 2000,
            "additional_units": 1,
            "additional_fee_fen": 1000,
            "regions": ["650000", "540000"],
        }
    ]
    assert t.free == [{"min_amount_fen": 9900, "min_count": None, "regions": []}]
    assert t.not_delivered == ["710000"]
    page = (await client.get(f"/admin/shipping/{t.id}?ok=created")).text
    assert 'value="650000" checked' in page and 'value="710000" checked' in page and 'value="4.50"' in page
    assert 'value="99"' in page
    r = await client.post(f"/admin/shipping/{t.id}", data=form(csrf, name="改名快递", d_first_fee="10"))
    assert r.status_code == 303, r.text
    async with db.read() as s:
        t = await s.scalar(select(ShippingTemplate))
    assert t.name == "改名快递" and t.default_rule["first_fee_fen"] == 1000 and t.is_default
    listed = (await client.get("/admin/shipping")).text
    assert "改名快递" in listed and "默认" in listed


async def test_mistakes_read_in_chinese_beside_their_row_and_nothing_is_saved(client, db):
    csrf = await console(client, db, "owner")
    r = await client.post("/admin/shipping/new", data=form(csrf, d_first_fee="八元"))
    assert r.status_code == 422 and "首费格式不正确" in r.text
    overlap = form(csrf, r1_regions=["650000"], r1_first_units="1", r1_first_fee="5", r1_additional_units="1")
    r = await client.post("/admin/shipping/new", data={**overlap, "r1_additional_fee": "0"})
    assert r.status_code == 422 and "同一地区出现在多条运费规则里" in r.text
    assert 'id="rule-1"' in r.text and r.text.index("同一地区出现在多条") > r.text.index('id="rule-1"')
    r = await client.post("/admin/shipping/new", data=form(csrf, name=""))
    assert r.status_code == 422 and "请填写模板名称" in r.text
    async with db.read() as s:
        assert await s.scalar(select(func.count()).select_from(ShippingTemplate)) == 0


async def test_staff_without_the_catalogue_permission_cannot_write(client, db):
    csrf = await console(client, db, "finance")
    assert (await client.get("/admin/shipping")).status_code == 200
    r = await client.post("/admin/shipping/new", data=form(csrf))
    assert r.status_code == 403
    async with db.read() as s:
        assert await s.scalar(select(func.count()).select_from(ShippingTemplate)) == 0
