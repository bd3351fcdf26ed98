"""Region codes in the address book: the table the picker reads (/regions, cacheable), county-level codes
accepted and named from the table, coarser or unknown codes refused with nothing stored, the shopper's own
spelling kept when it names the same place, and wx.chooseAddress results mapped to a code."""

from __future__ import annotations

import gzip
import json
from typing import Any

import pytest
from sqlalchemy import func, select

from fissionmall.addresses import rules
from fissionmall.addresses.models import CustomerAddress
from tests.addresses.test_http import API, WX, add, addr
from tests.helpers import admin, product, shopper


async def count(db) -> int:
    async with db.read() as s:
        return int(await s.scalar(select(func.count()).select_from(CustomerAddress)) or 0)


async def test_the_region_tree_is_one_cacheable_answer(client):
    r = await client.get("/api/v1/regions", headers={"Accept-Encoding": "identity"})
    assert r.status_code == 200
    assert "max-age=604800" in r.headers["cache-control"] and r.headers["etag"]
    body = r.json()
    assert body["version"] and r.headers["etag"] == f'"{body["version"]}"'
    gd = next(p for p in body["regions"] if p[0] == "440000")
    gz = next(c for c in gd[2] if c[0] == "440100")
    assert gd[1] == "广东省" and gz[1] == "广州市" and ["440105", "海珠区"] in gz[2]
    assert len(body["regions"]) == 34  # 31 provinces + 台湾、香港、澳门

    again = await client.get("/api/v1/regions", headers={"If-None-Match": r.headers["etag"]})
    assert again.status_code == 304 and again.content == b""

    zipped = await client.get("/api/v1/regions", headers={"Accept-Encoding": "gzip"})
    assert zipped.json() == body  # httpx inflates it
    assert zipped.headers["content-encoding"] == "gzip"
    assert len(gzip.compress(json.dumps(body).encode())) < len(r.content)


async def test_region_children_one_level_at_a_time(client):
    r = await client.get("/api/v1/regions/000000/children")
    assert r.status_code == 200 and len(r.json()) == 34
    assert {"code": "810000", "name": "香港特别行政区", "level": 1, "deliverable": True} in r.json()
    r = await client.get("/api/v1/regions/440100/children")
    assert {"code": "440105", "name": "海珠区", "level": 3, "deliverable": True} in r.json()
    r = await client.get("/api/v1/regions/999999/children")
    assert r.status_code == 422 and r.json()["error"]["code"] == "REGION_UNKNOWN"
    r = await client.get("/api/v1/regions/abc/children")
    assert r.status_code == 422


@pytest.mark.parametrize(
    ("code", "ok"),
    [
        ("440105", True),  # 广州市 海珠区
        ("110105", True),  # 北京市 朝阳区
        ("441900", True),  # 东莞市: no counties
        ("442000", True),  # 中山市
        ("460400", True),  # 儋州市
        ("441900003", True),  # 东莞市 东城街道
        ("810000", True),  # 香港: the table stops at the province
        ("710000", True),  # 台湾
        ("440000", False),  # 广东省 has cities
        ("440100", False),  # 广州市 has districts
        ("110000", False),  # 北京市 has districts
        ("110100", False),  # 北京市 市辖区
        ("999999", False),
        ("44", False),
    ],
)
def test_deliverable_codes(code: str, ok: bool) -> None:
    assert rules.deliverable(code) is ok


async def test_a_county_code_is_stored_with_the_table_name(client, db):
    me = await shopper(client)
    a = await add(client, me, addr(1, region="随便写", region_code="440105"))
    assert a["region_code"] == "440105" and a["region"] == "广东省 广州市 海珠区"
    # A municipality is named without its 市辖区 level.
    b = await add(client, me, addr(2, region="x", region_code="110105"))
    assert b["region"] == "北京市 朝阳区"
    c = await add(client, me, addr(3, region="香港", region_code="810000"))
    assert c["region"] == "香港"  # names the same place: the shopper's spelling stays
    d = await add(client, me, addr(4, region="广东 东莞", region_code="441900"))
    assert d["region"] == "广东 东莞"
    # The shopper's own spelling of the same place is kept.
    e = await add(client, me, addr(5, region="广东 广州 海珠", region_code="440105"))
    assert e["region"] == "广东 广州 海珠"
    f = await add(client, me, addr(6, region="广东省广州市海珠区", region_code="440105"))
    assert f["region"] == "广东省广州市海珠区"


async def test_a_body_with_only_region_text_still_works(client):
    me = await shopper(client)
    a = await add(client, me, addr(1, region="火星 某区"))
    assert a["region"] == "火星 某区" and a["region_code"] is None


@pytest.mark.parametrize("code", ["440000", "440100", "110000", "999999", "000000"])
async def test_a_coarse_or_unknown_code_is_refused_and_nothing_stored(client, db, code):
    me = await shopper(client)
    r = await client.post(API, json=addr(1, region_code=code), headers=me)
    assert r.status_code == 422 and r.json()["error"]["code"] == "REGION_UNKNOWN", r.text
    assert "区/县" in r.json()["error"]["message"]
    assert await count(db) == 0


async def test_editing_the_region(client, db):
    me = await shopper(client)
    a = await add(client, me, addr(1, region_code="440105"))
    url = f"{API}/{a['id']}"
    # A new code renames the region.
    r = await client.put(url, json={"region_code": "440106"}, headers=me)
    assert r.status_code == 200 and r.json()["region"] == "广东省 广州市 天河区"
    # A bad code changes nothing.
    r = await client.put(url, json={"region_code": "440100", "detail": "改了"}, headers=me)
    assert r.status_code == 422 and r.json()["error"]["code"] == "REGION_UNKNOWN"
    r = await client.get(API, headers=me)
    kept = r.json()["items"][0]
    assert kept["region_code"] == "440106" and kept["detail"] == a["detail"]
    # New text naming another place drops the old code, so text and code never disagree.
    r = await client.put(url, json={"region": "上海市 浦东新区"}, headers=me)
    assert r.json()["region"] == "上海市 浦东新区" and r.json()["region_code"] is None
    r = await client.put(url, json={"region": "上海 浦东", "region_code": "310115"}, headers=me)
    assert r.json()["region"] == "上海 浦东" and r.json()["region_code"] == "310115"
    r = await client.put(url, json={"region": "上海市 浦东新区"}, headers=me)  # same place: the code stays
    assert r.json()["region_code"] == "310115"
    r = await client.put(url, json={"region_code": None}, headers=me)
    assert r.json()["region_code"] is None and r.json()["region"] == "上海市 浦东新区"


def names(province: str, city: str, county: str) -> dict[str, Any]:
    return {"nationalCode": "", "provinceName": province, "cityName": city, "countyName": county}


WX_CASES: list[tuple[dict[str, Any], str | None, str]] = [
    ({}, "440105", "广东省 广州市 海珠区"),  # nationalCode
    ({"nationalCode": None}, "440105", "广东省 广州市 海珠区"),  # the names
    ({"nationalCode": "000001"}, "440105", "广东省 广州市 海珠区"),  # not in the table: the names
    (names("北京市", "北京市", "朝阳区"), "110105", "北京市 朝阳区"),
    (names("重庆市", "重庆市", "巫山县"), "500237", "重庆市 巫山县"),
    (names("广东省", "东莞市", ""), "441900", "广东省 东莞市"),
    (names("广东省", "东莞市", "南城街道"), "441900004", "广东省 东莞市 南城街道"),
    (names("香港特别行政区", "香港特别行政区", "九龙城区"), "810000", "香港特别行政区 九龙城区"),
    (names("广东", "广州", "海珠"), "440105", "广东 广州 海珠"),
    (names("火星", "某市", "某区"), None, "火星 某市 某区"),
    (names("广东省", "广州市", "不存在区"), None, "广东省 广州市 不存在区"),
    # A nationalCode of another province than the names: the names the shopper saw win.
    ({"nationalCode": "110105"}, "440105", "广东省 广州市 海珠区"),
]


@pytest.mark.parametrize(("over", "code", "region"), WX_CASES)
async def test_wechat_addresses_map_to_a_code(client, over, code, region):
    me = await shopper(client)
    r = await client.post(f"{API}/wechat", json={**WX, **over}, headers=me)
    assert r.status_code == 201, r.text
    assert (r.json()["region_code"], r.json()["region"]) == (code, region)


async def test_an_inline_order_address_with_an_unknown_code_is_refused(client, db):
    owner = await admin(client, db)
    p = await product(client, owner)
    me = await shopper(client)
    body = {
        "items": [{"sku_id": p["skus"][0]["id"], "qty": 1}],
        "address": addr(1, region_code="440100"),
    }
    r = await client.post("/api/v1/orders", json=body, headers=me)
    assert r.status_code == 422 and r.json()["error"]["code"] == "REGION_UNKNOWN", r.text
    body["address"] = addr(1, region_code="440105")
    r = await client.post("/api/v1/orders", json=body, headers=me)
    assert r.status_code == 201, r.text
