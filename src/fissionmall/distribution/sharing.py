"""Share tools: a distributor's share link, QR code, mini-program code and poster, rendered once and kept.

poster.py draws the images; this module decides what goes on them and where the files live.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.accounts import service as accounts
from fissionmall.catalog import service as catalog
from fissionmall.core.errors import AppError, Forbidden
from fissionmall.core.media import first_media_file
from fissionmall.distribution import poster
from fissionmall.distribution.distributors import current_distributor
from fissionmall.distribution.errors import DistributionError
from fissionmall.settings import Settings

log = logging.getLogger("fissionmall.distribution")


def share_folder(settings: Settings) -> Any:
    """Where the rendered share images are kept (served by /api/v1/distribution/media/{name})."""
    return settings.var_dir / "distribution" / "share"


async def share(
    s: AsyncSession, *, customer_id: int, product_id: int | None, settings: Settings, base_url: str | None = None
) -> dict[str, str | None]:
    """The distributor's share link, QR code and poster for a product (rendered once, then cached)."""
    d = await current_distributor(s, customer_id=customer_id)
    if d is None or d.status != "approved":
        raise Forbidden(DistributionError.NOT_DISTRIBUTOR)
    who = await accounts.get_customer(s, customer_id=customer_id)
    return await _images(
        s, settings, product_id, ref=d.share_code, inviter=who.nickname if who else "好友", base_url=base_url
    )


async def product_share(
    s: AsyncSession, *, product_id: int, customer_id: int | None, settings: Settings, base_url: str | None = None
) -> dict[str, str | None]:
    """分享 for any shopper (logged in or not): a product's link, QR code and poster. An approved
    distributor's link carries their code, so it is the same link 分享赚佣金 gives; anyone else's is the
    plain product link. PRODUCT_NOT_FOUND for a product not on sale."""
    d = await current_distributor(s, customer_id=customer_id) if customer_id is not None else None
    ref = d.share_code if d is not None and d.status == "approved" else None
    who = await accounts.get_customer(s, customer_id=customer_id) if customer_id is not None else None
    inviter = who.nickname if who else "裂变商城"
    return {
        **await _images(s, settings, product_id, ref=ref, inviter=inviter, base_url=base_url),
        "ref": ref,
    }


async def page_share(
    s: AsyncSession,
    *,
    settings: Settings,
    product_id: int,
    fragment: str,
    title: str,
    price_fen: int,
    inviter: str,
    scene: str,
    base_url: str | None = None,
) -> dict[str, str | None]:
    """A tool's share page (a bargain's 帮我砍一刀, say) as a link, QR code and poster with the product's
    picture, the tool's title and price: the same poster code and files as a product's share."""
    return await _images(
        s,
        settings,
        product_id,
        ref=None,
        inviter=inviter,
        base_url=base_url,
        fragment=fragment,
        title=title,
        price_fen=price_fen,
        scene=scene,
    )


async def _images(
    s: AsyncSession,
    settings: Settings,
    product_id: int | None,
    *,
    ref: str | None,
    inviter: str,
    base_url: str | None,
    fragment: str | None = None,
    title: str | None = None,
    price_fen: int | None = None,
    scene: str | None = None,
) -> dict[str, str | None]:
    """The link, scene and images for a product (or the shop) shared with `ref` (a distributor's code);
    a tool's own page (`fragment`, with its title and price) is shared with the product's picture."""
    shown_title, price, image = "裂变商城 · 好物推荐", None, None
    if product_id is not None:
        p = await catalog.get_product(s, product_id=product_id, include_hidden=fragment is not None)
        shown_title = p.title
        prices = [k.price_fen for k in p.skus if k.is_active]
        price = min(prices) if prices else None
        image = first_media_file(settings.media_dir, p.images)
    title = title or shown_title
    price = price_fen if price_fen is not None else price
    base = (base_url or settings.base_url).rstrip("/")
    page = fragment or (f"#/p/{product_id}" if product_id else "")
    url = f"{base}/shop/" + (f"?ref={ref}" if ref else "") + page
    if scene is None:
        scene = "&".join(([f"r={ref}"] if ref else []) + ([f"p={product_id}"] if product_id else []))
    code_name, code_png = await _mini_program_code(settings, scene)
    spec = poster.PosterSpec(
        share_url=url, title=title, price_fen=price, image_path=image, inviter=inviter, code_png=code_png
    )
    qr_name, poster_name = await asyncio.to_thread(poster.ensure_files, spec, share_folder(settings))
    return {
        "scene": scene,
        "share_url": url,
        "qrcode_png_url": f"/api/v1/distribution/media/{qr_name}",
        "poster_png_url": f"/api/v1/distribution/media/{poster_name}",
        "wxacode_png_url": f"/api/v1/distribution/media/{code_name}" if code_name else None,
    }


async def _mini_program_code(settings: Settings, scene: str) -> tuple[str | None, bytes | None]:
    """The mini-program code (小程序码) for a share scene, fetched once from WeChat and kept; (None, None)
    when WeChat is not configured or will not make one (the poster then carries a QR of the H5 link)."""
    if not settings.wechat_login_configured:
        return None, None
    from fissionmall.wechat.miniprogram import client_for

    # A trial or develop build's code opens another build: it is kept apart from the release one's.
    env = "" if settings.wechat_env_version == "release" else f"|{settings.wechat_env_version}"
    key = hashlib.sha256(f"{settings.wechat_app_id}|{settings.wechat_share_page}|{scene}{env}".encode()).hexdigest()
    name = f"{key[:24]}-wxa.png"
    path = share_folder(settings) / name
    if path.is_file():
        return name, await asyncio.to_thread(path.read_bytes)
    try:
        png = await client_for(settings).wxacode_unlimited(
            scene=scene, page=settings.wechat_share_page, env_version=settings.wechat_env_version
        )
    except (AppError, httpx.HTTPError) as exc:
        log.warning("no mini-program code for scene %r (%s); the poster carries a QR code instead", scene, exc)
        return None, None
    await asyncio.to_thread(poster.save_png, png, path)
    return name, png
