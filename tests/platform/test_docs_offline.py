"""The API documentation works without the internet: /docs and /redoc load only vendored files from this
origin, under a policy that allows Swagger UI's one inline script by its hash; the favicon; the console's
开发者 page; unknown console addresses answer a Chinese page; the dev secret is long enough for HS256.
(tests/browser/test_docs.py renders both pages in Chromium with every other host cut off.)"""

from __future__ import annotations

import base64
import hashlib
import io
import re
import warnings

from PIL import Image

from fissionmall.core.security import issue_token, read_token
from fissionmall.ops.admin import DOC_LINKS
from fissionmall.settings import DEFAULT_SECRET, Settings
from tests.console_helpers import console

EXTERNAL = re.compile(r"""(?:src|href)=["']?(?:https?:)?//""", re.I)
CJK = re.compile(r"[\u4e00-\u9fff]")


def _script_src(csp: str) -> str:
    return next(d for d in csp.split(";") if d.strip().startswith("script-src")).strip()


async def test_swagger_ui_loads_only_vendored_files_and_its_inline_script_by_hash(client):
    r = await client.get("/docs")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    html = r.text
    assert not EXTERNAL.search(html), "the page names another host"
    assert 'src="/static/vendor/swagger-ui/swagger-ui-bundle.js"' in html
    assert 'href="/static/vendor/swagger-ui/swagger-ui.css"' in html
    assert "url: '/openapi.json'" in html and '"validatorUrl": null' in html

    scripts = re.findall(r"<script>(.*?)</script>", html, re.S)
    assert len(scripts) == 1 and "SwaggerUIBundle(" in scripts[0]
    digest = base64.b64encode(hashlib.sha256(scripts[0].encode()).digest()).decode()
    script_src = _script_src(r.headers["content-security-policy"])
    assert script_src == f"script-src 'self' 'sha256-{digest}'"  # that script, nothing inline besides
    assert "unsafe-inline" not in script_src and "unsafe-eval" not in script_src
    assert r.headers["x-frame-options"] == "DENY" and r.headers["x-content-type-options"] == "nosniff"

    for asset, kind in (("swagger-ui-bundle.js", "javascript"), ("swagger-ui.css", "text/css")):
        got = await client.get(f"/static/vendor/swagger-ui/{asset}")
        assert got.status_code == 200 and kind in got.headers["content-type"], asset
        assert len(got.content) > 100_000, asset


async def test_redoc_loads_only_the_vendored_bundle_and_no_web_font(client):
    r = await client.get("/redoc")
    assert r.status_code == 200
    html = r.text
    assert not EXTERNAL.search(html) and "fonts.googleapis" not in html
    assert 'src="/static/vendor/redoc/redoc.standalone.js"' in html and 'spec-url="/openapi.json"' in html
    csp = r.headers["content-security-policy"]
    assert _script_src(csp) == "script-src 'self'"  # Redoc's page has no inline script at all
    bundle = await client.get("/static/vendor/redoc/redoc.standalone.js")
    assert bundle.status_code == 200 and len(bundle.content) > 500_000


async def test_the_schema_stays_at_openapi_json_and_the_docs_pages_are_not_in_it(client):
    r = await client.get("/openapi.json")
    assert r.status_code == 200
    spec = r.json()
    assert spec["info"]["title"] == "fissionmall" and spec["paths"]
    assert not {"/docs", "/redoc", "/favicon.ico", "/docs/oauth2-redirect"} & set(spec["paths"])


async def test_the_vendored_licenses_ship_beside_the_bundles(client):
    for path in ("swagger-ui/LICENSE", "swagger-ui/NOTICE", "redoc/LICENSE"):
        r = await client.get(f"/static/vendor/{path}")
        assert r.status_code == 200 and len(r.text) > 40, path
    readme = (await client.get("/static/vendor/README.md")).text
    assert "swagger-ui-dist" in readme and "5.35.0" in readme and "redoc" in readme and "2.5.4" in readme


async def test_a_favicon_with_the_brand_mark_is_served_and_both_front_ends_link_it(client):
    r = await client.get("/favicon.ico")
    assert r.status_code == 200 and r.headers["content-type"] == "image/x-icon"
    icon = Image.open(io.BytesIO(r.content))
    assert icon.format == "ICO" and (32, 32) in icon.info["sizes"]
    assert (await client.get("/static/favicon.png")).status_code == 200
    for page in ("/shop/", "/admin/login"):
        html = (await client.get(page)).text
        assert '<link rel="icon" href="/favicon.ico"' in html, page
    for page in ("/docs", "/redoc"):
        assert 'href="/favicon.ico"' in (await client.get(page)).text, page


async def test_the_developer_page_names_each_document_in_chinese_for_the_owner(client, db):
    await console(client, db, "owner")
    home = (await client.get("/admin/")).text
    assert 'href="/admin/developer"' in home and "开发者" in home
    r = await client.get("/admin/developer")
    assert r.status_code == 200
    for href, name, what in DOC_LINKS:
        assert f'href="{href}"' in r.text and name in r.text and what in r.text, href
        assert CJK.search(name) and CJK.search(what)
    assert {h for h, _, _ in DOC_LINKS} >= {"/docs", "/redoc", "/openapi.json"}
    for href, _, _ in DOC_LINKS:  # every address it gives answers
        assert (await client.get(href)).status_code == 200, href


async def test_the_developer_page_is_a_system_page(client, db):
    await console(client, db, "operator")
    assert 'href="/admin/developer"' not in (await client.get("/admin/")).text
    r = await client.get("/admin/developer")
    assert r.status_code == 403 and "没有权限" in r.text


async def test_an_unknown_console_address_is_a_chinese_page_when_logged_out(client):
    for path in ("/admin/no-such-page", "/admin/orders/1/no-such-tab", "/admin/x/y/z?a=1"):
        r = await client.get(path)
        assert r.status_code == 404, path
        assert r.headers["content-type"].startswith("text/html"), path
        assert "找不到页面" in r.text and "没有这个页面" in r.text and 'href="/admin/"' in r.text
        assert "Not Found" not in r.text and '{"error"' not in r.text
        assert "script-src 'self'" in r.headers["content-security-policy"]  # the console's policy still holds


async def test_an_unknown_console_address_is_a_chinese_page_in_the_layout_when_logged_in(client, db):
    await console(client, db, "operator")
    r = await client.get("/admin/no-such-page")
    assert r.status_code == 404 and "找不到页面" in r.text and "没有这个页面" in r.text
    assert 'aria-label="主导航"' in r.text and "退出登录" in r.text  # the console's sidebar, not a bare page


async def test_the_api_keeps_its_json_404_and_the_shop_its_own_router(client):
    r = await client.get("/api/v1/no-such-thing")
    assert r.status_code == 404 and r.json()["error"]["code"] == "NOT_FOUND"
    r = await client.get("/api/admin/v1/no-such-thing")
    assert r.status_code == 404 and r.json()["error"]["code"] == "NOT_FOUND"
    # A bad link under /shop/ goes home, as the shop's hash router does with a screen it does not know.
    r = await client.get("/shop/no/such/screen", headers={"Accept": "text/html,*/*"})
    assert r.status_code == 303 and r.headers["location"] == "/shop/"
    r = await client.get("/shop/no-such.js", headers={"Accept": "*/*"})  # a script's request: the JSON 404
    assert r.status_code == 404 and r.json()["error"]["code"] == "NOT_FOUND"


def test_the_dev_default_secret_is_long_enough_that_no_token_warns():
    assert len(DEFAULT_SECRET.encode()) >= 32
    dev = Settings(_env_file=None, env="dev")
    assert dev.secret_key == DEFAULT_SECRET
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # PyJWT's InsecureKeyLengthWarning would raise here
        token = issue_token(dev.secret_key, subject=1, kind="customer", ttl_seconds=60)
        assert read_token(dev.secret_key, token, kind="customer")["sub"] == "1"
