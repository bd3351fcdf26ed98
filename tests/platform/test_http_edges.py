"""The HTTP edges: literal search patterns, one code for a malformed body on every lane, a request-size
limit that refuses before reading, and the pages' security headers."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from fissionmall.core import http as edges
from fissionmall.seckill.fast import FastAttempts
from tests.console_helpers import console
from tests.helpers import ADDRESS, admin, product, shopper

TEMPLATES = Path(__file__).parents[2] / "src" / "fissionmall" / "web" / "templates"

# ---- LIKE patterns ------------------------------------------------------------------------------------


@pytest.fixture
async def catalogue(client, db):
    boss = await admin(client, db)
    for title in ("100%纯棉T恤", "a_b 联名款", "反\\斜杠礼盒", "普通商品", "abc 杯子"):
        await product(client, boss, title=title)
    return boss


@pytest.mark.parametrize(
    ("q", "found"),
    [
        ("%", {"100%纯棉T恤"}),
        ("_", {"a_b 联名款"}),
        ("\\", {"反\\斜杠礼盒"}),
        ("a_b", {"a_b 联名款"}),
        ("0%纯", {"100%纯棉T恤"}),
    ],
)
async def test_search_wildcards_are_matched_literally(client, db, catalogue, q, found):
    r = await client.get("/api/v1/products", params={"q": q})
    assert r.status_code == 200, r.text
    assert {p["title"] for p in r.json()["items"]} == found


async def test_the_console_product_list_matches_wildcards_literally(client, db, catalogue):
    await console(client, db, "owner")
    page = (await client.get("/admin/products", params={"q": "%"})).text
    assert "100%纯棉T恤" in page
    assert "普通商品" not in page and "a_b 联名款" not in page
    page = (await client.get("/admin/products", params={"q": "_"})).text
    assert "a_b 联名款" in page and "abc 杯子" not in page and "普通商品" not in page


# ---- malformed bodies ---------------------------------------------------------------------------------

NOT_UTF8 = '{"qty": 1, "token": "x", "address": {"name": "\xe9"}}'.encode("latin-1")


@pytest.fixture
async def lanes(app, client, db) -> Any:
    me = await shopper(client, "edge")
    fast = httpx.AsyncClient(transport=httpx.ASGITransport(app=FastAttempts(app)), base_url="http://shop.test")
    async with fast:
        yield me, fast


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (NOT_UTF8, 400, "MALFORMED_JSON"),
        (b'{"qty": 1, "token": ', 400, "MALFORMED_JSON"),
        (b"\xff\xfe\x00\x00", 400, "MALFORMED_JSON"),
        (b"", 422, "VALIDATION_ERROR"),
    ],
    ids=["not utf-8", "truncated", "binary", "empty"],
)
async def test_a_malformed_body_gets_one_code_on_every_lane(client, lanes, body, status, code):
    me, fast = lanes
    h = {**me, "content-type": "application/json"}
    answers = {
        "orders route": await client.post("/api/v1/orders", content=body, headers=h),
        "attempt route": await client.post("/api/v1/seckill/items/1/attempts", content=body, headers=h),
        "fast lane": await fast.post("/api/v1/seckill/items/1/attempts", content=body, headers=h),
    }
    got = {k: (r.status_code, r.json()["error"]["code"]) for k, r in answers.items()}
    assert set(got.values()) == {(status, code)}, got


async def test_a_body_not_declared_json_is_judged_alike_on_both_attempt_lanes(client, lanes):
    me, fast = lanes
    body = b'{"qty": 1, "token": "x", "address": {}}'
    for ctype in ("text/plain", "application/x-www-form-urlencoded"):
        h = {**me, "content-type": ctype}
        a = await client.post("/api/v1/seckill/items/1/attempts", content=body, headers=h)
        b = await fast.post("/api/v1/seckill/items/1/attempts", content=body, headers=h)
        assert (a.status_code, a.json()) == (b.status_code, b.json()), (ctype, a.text, b.text)


# ---- the request-size limit ----------------------------------------------------------------------------


async def _raw(app: Any, path: str, chunks: int, chunk: bytes, *, length: int | None) -> tuple[int, dict, int]:
    """POST `chunks` chunks straight into the ASGI app; (status, JSON body, chunks the app pulled)."""
    pulled = 0

    async def receive() -> dict[str, Any]:
        nonlocal pulled
        pulled += 1
        if pulled > chunks:
            return {"type": "http.disconnect"}
        return {"type": "http.request", "body": chunk, "more_body": pulled < chunks}

    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    headers = [(b"content-type", b"application/json"), (b"host", b"shop.test")]
    if length is not None:
        headers.append((b"content-length", str(length).encode()))
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("10.1.2.3", 5555),
        "server": ("shop.test", 80),
        "state": {},
    }
    await app(scope, receive, send)
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], json.loads(body), pulled


CHUNK = b" " * 65536  # whitespace: valid padding inside a JSON body


async def test_a_declared_length_over_the_limit_is_refused_before_a_byte_is_read(app, client, db):
    chunks = 160  # 10 MB
    status, body, pulled = await _raw(app, "/api/v1/orders", chunks, CHUNK, length=chunks * len(CHUNK))
    assert status == 413 and body["error"]["code"] == "PAYLOAD_TOO_LARGE", body
    assert pulled == 0


async def test_a_chunked_body_is_cut_off_at_the_limit(app, client, db):
    status, body, pulled = await _raw(app, "/api/v1/orders", 160, CHUNK, length=None)
    assert status == 413 and body["error"]["code"] == "PAYLOAD_TOO_LARGE", body
    assert pulled <= edges.MAX_BODY // len(CHUNK) + 1  # stopped at the first chunk past 1 MB, not at 10 MB


async def test_a_console_form_over_the_limit_is_refused_too(app, client, db):
    status, body, pulled = await _raw(app, "/admin/login", 40, CHUNK, length=None)
    assert status == 413 and body["error"]["code"] == "PAYLOAD_TOO_LARGE"
    assert pulled <= edges.MAX_BODY // len(CHUNK) + 1


async def test_a_body_under_the_limit_reaches_the_route(app, client, db):
    me = await shopper(client, "big")
    body = b'{"items": [], "address": %s, "pad": "%s"}' % (
        httpx.Request("POST", "/", json=ADDRESS).content,
        b"x" * (edges.MAX_BODY - 4096),
    )
    r = await client.post("/api/v1/orders", content=body, headers={**me, "content-type": "application/json"})
    assert r.status_code != 413, r.text


async def test_the_fast_lane_keeps_its_own_16_kb_limit(app, client, db):
    me = await shopper(client, "fastbig")
    transport = httpx.ASGITransport(app=FastAttempts(app))
    async with httpx.AsyncClient(transport=transport, base_url="http://shop.test") as fast:
        r = await fast.post(
            "/api/v1/seckill/items/1/attempts",
            content=b'{"pad": "' + b"x" * 20_000 + b'"}',
            headers={**me, "content-type": "application/json"},
        )
    assert (r.status_code, r.json()["error"]["code"]) == (413, "PAYLOAD_TOO_LARGE")


# ---- security headers ---------------------------------------------------------------------------------


def _csp(r: httpx.Response) -> dict[str, str]:
    return {d.split()[0]: " ".join(d.split()[1:]) for d in r.headers["content-security-policy"].split(";") if d.strip()}


async def test_shop_and_console_pages_carry_a_csp_and_frame_headers(client, db):
    for path in ("/shop/", "/admin/login"):
        r = await client.get(path)
        assert r.status_code == 200
        csp = _csp(r)
        assert csp["script-src"] == "'self'", csp  # no inline script, no eval
        assert csp["frame-ancestors"] == "'none'" and csp["object-src"] == "'none'"
        assert r.headers["x-frame-options"] == "DENY"
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["referrer-policy"] == "same-origin"
    assert "'unsafe-inline'" not in _csp(await client.get("/admin/login"))["style-src"]


async def test_api_answers_are_never_sniffed_and_carry_no_page_policy(client, db):
    r = await client.get("/api/v1/products")
    assert r.headers["x-content-type-options"] == "nosniff"
    assert "content-security-policy" not in r.headers


def test_console_templates_have_no_inline_script_or_handler():
    """What the console's CSP would block: an inline <script>, an on…= attribute, a javascript: URL. A JSON
    data block (`<script type="application/json">`, the charts' figures) is never run, so CSP lets it be."""
    bad = []
    for f in TEMPLATES.rglob("*.html"):
        text = f.read_text()
        inline = r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>"
        for m in re.finditer(inline + r"|\son[a-z]+\s*=|javascript:|\sstyle\s*=", text):
            bad.append(f"{f.relative_to(TEMPLATES)}: {m.group(0)}")
    assert not bad, bad
