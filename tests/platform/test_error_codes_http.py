"""GET /api/v1/error-codes: the one table of Chinese texts, open to anyone and cacheable, and the texts
the refusals themselves carry."""

from __future__ import annotations

import re

from fissionmall.core import codes

CJK = re.compile(r"[\u4e00-\u9fff]")


async def test_the_table_is_served_without_a_login_with_every_code_in_chinese(client):
    r = await client.get("/api/v1/error-codes")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    table = r.json()["codes"]
    assert table == codes.table()
    # one code of each kind: a domain enum, core, a not_found() code, and the fallback of a package in rewrite
    for code in ("GROUP_FULL", "AUTH_REQUIRED", "PRODUCT_NOT_FOUND", "COUPON_SOLD_OUT", "OUT_OF_STOCK"):
        assert CJK.search(table[code]), code
    assert all(CJK.search(text) for text in table.values())


async def test_the_table_is_cacheable_and_revalidates_to_a_304(client):
    r = await client.get("/api/v1/error-codes")
    cache = r.headers["cache-control"]
    assert "public" in cache and "max-age=300" in cache
    etag = r.headers["etag"]
    assert etag.startswith('"') and etag.endswith('"')
    again = await client.get("/api/v1/error-codes", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag
    other = await client.get("/api/v1/error-codes", headers={"If-None-Match": '"stale"'})
    assert other.status_code == 200 and other.json() == r.json()


async def test_a_refusal_carries_the_tables_text_not_an_english_sentence(client):
    table = (await client.get("/api/v1/error-codes")).json()["codes"]
    r = await client.get("/api/v1/me")
    assert r.status_code == 401
    err = r.json()["error"]
    assert err["code"] == "AUTH_REQUIRED" and err["message"] == table["AUTH_REQUIRED"]
    r = await client.post(
        "/api/v1/auth/wechat-login", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    err = r.json()["error"]
    assert r.status_code == 400 and err["code"] == "MALFORMED_JSON" and err["message"] == table["MALFORMED_JSON"]
    r = await client.get("/api/v1/no-such-route")
    err = r.json()["error"]
    assert r.status_code == 404 and err["code"] == "NOT_FOUND" and err["message"] == table["NOT_FOUND"]
