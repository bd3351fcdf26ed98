"""首页轮播图: the merchant's CRUD and order (at most MAX_ACTIVE active at once), and the list the shop
home reads (active, inside their window, in order) from the process cache."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.banners.errors import BannerError
from fissionmall.banners.models import Banner
from fissionmall.banners.schemas import BannerAdmin, BannerCreate, BannerPublic, BannerUpdate
from fissionmall.catalog.models import Product
from fissionmall.core import cache, clock
from fissionmall.core.errors import AppError, Conflict, NotFound
from fissionmall.media import service as media
from fissionmall.media.errors import MediaError

MAX_ACTIVE = 10
BANNERS = "banners"
COUPONS_ROUTE = "#/coupons"
_live: cache.Value[tuple[tuple[BannerPublic, datetime | None, datetime | None], ...]] = cache.Value(BANNERS)


def link_of(b: Banner) -> str | None:
    """The shop route a banner opens ("#/p/12", "#/coupons"), or None when it links nowhere."""
    if b.link_kind == "product" and b.product_id:
        return f"#/p/{b.product_id}"
    return COUPONS_ROUTE if b.link_kind == "coupons" else None


def is_live(b: Banner, now: datetime) -> bool:
    """Whether the shop shows the banner at `now`: active, started and not ended."""
    return b.active and (b.starts_at is None or b.starts_at <= now) and (b.ends_at is None or now < b.ends_at)


async def _image(s: AsyncSession, ref: int | str) -> str:
    try:
        return (await media.resolve_refs(s, refs=[ref]))[0]
    except AppError as exc:
        if exc.code == MediaError.MEDIA_REF_INVALID:
            raise AppError(MediaError.MEDIA_REF_INVALID, "轮播图只能使用素材库的图片", field="image") from None
        raise AppError(exc.code, exc.message, status=exc.status, field="image") from None


async def _check_link(s: AsyncSession, b: Banner) -> None:
    if b.link_kind != "product":
        b.product_id = None
        return
    if b.product_id is None:
        raise AppError(BannerError.BANNER_PRODUCT_REQUIRED, field="product_id")
    status = await s.scalar(select(Product.status).where(Product.id == b.product_id))
    if status is None or status == "deleted":
        raise NotFound(BannerError.BANNER_PRODUCT_NOT_FOUND, field="product_id")


def _check_window(b: Banner) -> None:
    if b.starts_at is not None and b.ends_at is not None and b.ends_at <= b.starts_at:
        raise AppError(BannerError.BANNER_WINDOW_INVALID, field="ends_at")


async def _check_limit(s: AsyncSession, b: Banner) -> None:
    """At most MAX_ACTIVE active banners. Writers are serialised on the table's lock row (`cache.bump`
    takes the banners version row first), so two concurrent activations cannot both pass the count."""
    if not b.active:
        return
    await cache.bump(s, BANNERS)
    q = select(func.count()).select_from(Banner).where(Banner.active.is_(True))
    if b.id is not None:
        q = q.where(Banner.id != b.id)
    if (await s.scalar(q) or 0) >= MAX_ACTIVE:
        raise Conflict(BannerError.BANNER_LIMIT_REACHED, field="active")


async def _titles(s: AsyncSession, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = await s.execute(select(Product.id, Product.title).where(Product.id.in_(ids)))
    return {pid: title for pid, title in rows.all()}


async def to_admin(s: AsyncSession, *, banners: Sequence[Banner]) -> list[BannerAdmin]:
    """Banners as the admin API shows them, with the linked product's title."""
    titles = await _titles(s, {b.product_id for b in banners if b.product_id})
    now = clock.now()
    return [
        BannerAdmin(
            id=b.id,
            image_url=b.image,
            thumb_url=media.thumb_for(b.image) or b.image,
            title=b.title,
            link_kind=b.link_kind,
            product_id=b.product_id,
            product_title=titles.get(b.product_id) if b.product_id else None,
            link=link_of(b),
            sort_order=b.sort_order,
            active=b.active,
            live=is_live(b, now),
            starts_at=b.starts_at,
            ends_at=b.ends_at,
            created_at=b.created_at,
            updated_at=b.updated_at,
        )
        for b in banners
    ]


async def list_banners(s: AsyncSession) -> Sequence[Banner]:
    """Every banner, in the carousel's order."""
    return (await s.scalars(select(Banner).order_by(Banner.sort_order, Banner.id))).all()


async def get_banner(s: AsyncSession, *, banner_id: int, lock: bool = False) -> Banner:
    """One banner (BANNER_NOT_FOUND when it does not exist)."""
    q = select(Banner).where(Banner.id == banner_id)
    b = await s.scalar(q.with_for_update() if lock else q)
    if b is None:
        raise NotFound(BannerError.BANNER_NOT_FOUND)
    return b


async def create_banner(s: AsyncSession, *, data: BannerCreate) -> Banner:
    """A new banner, after the others."""
    now = clock.now()
    last = await s.scalar(select(func.max(Banner.sort_order)))
    b = Banner(
        image=await _image(s, data.image),
        title=data.title,
        link_kind=data.link_kind,
        product_id=data.product_id,
        sort_order=(last or 0) + 1,
        active=data.active,
        starts_at=data.starts_at,
        ends_at=data.ends_at,
        created_at=now,
        updated_at=now,
    )
    await _check_link(s, b)
    _check_window(b)
    await _check_limit(s, b)
    s.add(b)
    await s.flush()
    await cache.bump(s, BANNERS)
    return b


async def update_banner(s: AsyncSession, *, banner_id: int, data: BannerUpdate) -> Banner:
    """Change the fields given."""
    b = await get_banner(s, banner_id=banner_id, lock=True)
    was_active = b.active
    given = data.model_fields_set
    if "image" in given and data.image is not None:
        b.image = await _image(s, data.image)
    for name in ("title", "link_kind", "active"):
        if name in given and getattr(data, name) is not None:
            setattr(b, name, getattr(data, name))
    for name in ("product_id", "starts_at", "ends_at"):
        if name in given:
            setattr(b, name, getattr(data, name))
    await _check_link(s, b)
    _check_window(b)
    if b.active and not was_active:
        await _check_limit(s, b)
    b.updated_at = clock.now()
    await s.flush()
    await cache.bump(s, BANNERS)
    return b


async def move_banner(s: AsyncSession, *, banner_id: int, direction: str) -> None:
    """Swap a banner with its neighbour above or below (the first stays first when moved up)."""
    await cache.bump(s, BANNERS)  # one reorder at a time
    rows = list(await list_banners(s))
    i = next((k for k, b in enumerate(rows) if b.id == banner_id), None)
    if i is None:
        raise NotFound(BannerError.BANNER_NOT_FOUND)
    j = i - 1 if direction == "up" else i + 1
    if 0 <= j < len(rows):
        rows[i], rows[j] = rows[j], rows[i]
    for k, b in enumerate(rows, start=1):
        b.sort_order = k
    await s.flush()


async def delete_banner(s: AsyncSession, *, banner_id: int) -> None:
    """Delete a banner."""
    b = await get_banner(s, banner_id=banner_id, lock=True)
    await s.delete(b)
    await cache.bump(s, BANNERS)


async def _load(s: AsyncSession) -> tuple[tuple[BannerPublic, datetime | None, datetime | None], ...]:
    rows = await s.scalars(
        select(Banner).where(Banner.active.is_(True)).order_by(Banner.sort_order, Banner.id).limit(MAX_ACTIVE)
    )
    return tuple(
        (BannerPublic(id=b.id, image_url=b.image, title=b.title, link=link_of(b)), b.starts_at, b.ends_at) for b in rows
    )


async def shop_banners(s: AsyncSession) -> list[BannerPublic]:
    """What the shop home shows now: the active banners inside their window, in order."""
    now = clock.now()
    return [
        b
        for b, starts, ends in await _live.get(s, _load)
        if (starts is None or starts <= now) and (ends is None or now < ends)
    ]
