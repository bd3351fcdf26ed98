"""分享 for ordinary shoppers: GET /api/v1/distribution/products/{id}/share gives a product's link and a
poster PNG to anyone; a distributor's carries their code, so it is still the 分享赚佣金 link."""

from __future__ import annotations

import io

from PIL import Image
from sqlalchemy import func, select

from fissionmall.distribution.models import Distributor
from tests.distribution.helpers import configure, distributor
from tests.helpers import admin, product, shopper

PNG = b"\x89PNG\r\n\x1a\n"


def _share(p: dict) -> str:
    return f"/api/v1/distribution/products/{p['id']}/share"


async def _poster(client, url: str) -> Image.Image:
    r = await client.get(url)
    assert r.status_code == 200 and r.headers["content-type"] == "image/png" and r.content[:8] == PNG
    return Image.open(io.BytesIO(r.content))


async def test_a_shopper_who_is_no_distributor_gets_the_plain_link_and_a_poster(client, db):
    boss = await admin(client, db)
    p = await product(client, boss, prices=(2990, 1990), title="赣南脐橙")
    me = await shopper(client, "plain")

    r = await client.get(_share(p), headers=me)
    assert r.status_code == 200, r.text
    share = r.json()
    assert share["ref"] is None and "ref=" not in share["share_url"]
    assert share["share_url"].endswith(f"/shop/#/p/{p['id']}") and share["scene"] == f"p={p['id']}"
    img = await _poster(client, share["poster_png_url"])
    assert img.size == (750, 1200)
    assert (await client.get(share["qrcode_png_url"])).content[:8] == PNG
    # Asking is no application: the shopper did not become a distributor.
    async with db.read() as s:
        assert await s.scalar(select(func.count()).select_from(Distributor)) == 0


async def test_anyone_may_share_without_logging_in(client, db):
    boss = await admin(client, db)
    p = await product(client, boss)
    r = await client.get(_share(p))
    assert r.status_code == 200, r.text
    assert r.json()["ref"] is None and r.json()["share_url"].endswith(f"#/p/{p['id']}")
    await _poster(client, r.json()["poster_png_url"])


async def test_a_distributors_share_carries_their_code_like_share_for_commission(client, db):
    boss = await admin(client, db)
    await configure(client, boss)
    p = await product(client, boss)
    dist, code = await distributor(client, db, "sharer")

    share = (await client.get(_share(p), headers=dist)).json()
    assert share["ref"] == code
    assert share["share_url"].endswith(f"/shop/?ref={code}#/p/{p['id']}") and share["scene"] == f"r={code}&p={p['id']}"
    commission = (await client.get("/api/v1/distribution/share", params={"product_id": p["id"]}, headers=dist)).json()
    assert commission["share_url"] == share["share_url"] and commission["poster_png_url"] == share["poster_png_url"]


async def test_an_unknown_or_off_shelf_product_is_a_404_with_its_code(client, db):
    boss = await admin(client, db)
    p = await product(client, boss)
    me = await shopper(client)
    r = await client.get("/api/v1/distribution/products/999999/share", headers=me)
    assert (r.status_code, r.json()["error"]["code"]) == (404, "PRODUCT_NOT_FOUND")
    r = await client.patch(f"/api/admin/v1/products/{p['id']}", json={"status": "off_sale"}, headers=boss)
    assert r.status_code == 200, r.text
    r = await client.get(_share(p))
    assert (r.status_code, r.json()["error"]["code"]) == (404, "PRODUCT_NOT_FOUND")
    for bad in ("0", "abc", str(2**63)):
        r = await client.get(f"/api/v1/distribution/products/{bad}/share")
        assert r.status_code == 422 and r.json()["error"]["code"] == "VALIDATION_ERROR", bad


async def test_a_bad_token_is_refused_rather_than_treated_as_anonymous(client, db):
    boss = await admin(client, db)
    p = await product(client, boss)
    r = await client.get(_share(p), headers={"Authorization": "Bearer not-a-token"})
    assert r.status_code == 401 and r.json()["error"]["code"] == "TOKEN_INVALID"
