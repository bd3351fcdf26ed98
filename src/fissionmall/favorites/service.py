"""收藏 and 足迹: idempotent writes keyed by (customer, product), never read-then-write.

- 收藏: `INSERT … ON CONFLICT DO NOTHING` on the unique (customer, product), so a repeated or concurrent
  PUT leaves one row; the cap (MAX_FAVORITES) is counted under the shopper's row lock, and a product
  already favourited is never refused by it. DELETE of a missing favourite is a no-op.
- 足迹: `INSERT … ON CONFLICT DO UPDATE SET viewed_at` (one row per product, the last view), then the
  rows past the newest MAX_HISTORY are deleted in one statement.
- Only products on sale may be added (PRODUCT_NOT_FOUND otherwise); lists show every entry with its
  product card, an off-shelf one flagged (`on_shelf` false: 已下架).
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.accounts.models import Customer
from fissionmall.catalog.cards import ProductCard, product_cards
from fissionmall.core import clock
from fissionmall.core.db import is_postgres, keyset_page
from fissionmall.core.errors import Conflict, not_found
from fissionmall.favorites.errors import FavoritesError
from fissionmall.favorites.models import Favorite, ProductView

MAX_FAVORITES = 500
MAX_HISTORY = 100
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)


def _insert(s: AsyncSession, model: Any) -> Any:
    return (pg_insert if is_postgres(s) else sqlite_insert)(model)


async def _on_shelf(s: AsyncSession, product_id: int) -> None:
    card = (await product_cards(s, product_ids=[product_id])).get(product_id)
    if card is None or not card.on_shelf:
        raise not_found("product")


def _card_out(card: ProductCard | None, product_id: int) -> dict[str, Any]:
    if card is None:  # cannot happen while products are only ever marked deleted; shown as off shelf
        return {"product_id": product_id, "title": "", "image": None, "price_fen": 0, "on_shelf": False}
    return {
        "product_id": product_id,
        "title": card.title,
        "image": card.image,
        "price_fen": card.price_fen,
        "on_shelf": card.on_shelf,
    }


# ---- 收藏 ---------------------------------------------------------------------------------------


async def add_favorite(s: AsyncSession, *, customer_id: int, product_id: int) -> Favorite:
    """Favourite a product on sale (idempotent: a second PUT returns the first row)."""
    await _on_shelf(s, product_id)
    # The shopper's row lock makes the count below exact under concurrent PUTs of different products.
    await s.execute(select(Customer.id).where(Customer.id == customer_id).with_for_update())
    mine = select(Favorite).where(Favorite.customer_id == customer_id, Favorite.product_id == product_id)
    found = await s.scalar(mine)
    if found is not None:
        return found
    n = await s.scalar(select(func.count()).where(Favorite.customer_id == customer_id)) or 0
    if n >= MAX_FAVORITES:
        raise Conflict(FavoritesError.FAVORITES_FULL, f"收藏已满（最多 {MAX_FAVORITES} 个），请先取消一些不需要的收藏")
    ins = _insert(s, Favorite).values(customer_id=customer_id, product_id=product_id, created_at=clock.now())
    await s.execute(ins.on_conflict_do_nothing(index_elements=["customer_id", "product_id"]))
    row = await s.scalar(mine.execution_options(populate_existing=True))
    assert row is not None
    return row


async def remove_favorite(s: AsyncSession, *, customer_id: int, product_id: int) -> None:
    """Un-favourite (idempotent: removing what is not there is fine)."""
    await s.execute(delete(Favorite).where(Favorite.customer_id == customer_id, Favorite.product_id == product_id))


async def list_favorites(
    s: AsyncSession, *, customer_id: int, before_id: int | None, limit: int
) -> tuple[list[dict[str, Any]], str | None]:
    """The shopper's favourites newest first, one keyset page, each with its product card."""
    q = select(Favorite).where(Favorite.customer_id == customer_id).order_by(Favorite.id.desc())
    if before_id:
        q = q.where(Favorite.id < before_id)
    rows, nxt = await keyset_page(s, q, limit=limit)
    cards = await product_cards(s, product_ids=[f.product_id for f in rows])
    items = [{**_card_out(cards.get(f.product_id), f.product_id), "created_at": f.created_at} for f in rows]
    return items, nxt


async def count_favorites(s: AsyncSession, *, customer_id: int) -> int:
    """How many products the shopper has favourited."""
    return int(await s.scalar(select(func.count()).where(Favorite.customer_id == customer_id)) or 0)


async def favorited_among(s: AsyncSession, *, customer_id: int, product_ids: Collection[int]) -> list[int]:
    """Which of `product_ids` the shopper has favourited (the product page's filled ♡)."""
    if not product_ids:
        return []
    q = select(Favorite.product_id).where(
        Favorite.customer_id == customer_id, Favorite.product_id.in_(set(product_ids))
    )
    return sorted((await s.scalars(q)).all())


# ---- 足迹 ---------------------------------------------------------------------------------------


async def record_view(s: AsyncSession, *, customer_id: int, product_id: int) -> datetime:
    """Note that the shopper opened a product page now (one row per product), keeping the newest MAX_HISTORY."""
    await _on_shelf(s, product_id)
    now = clock.now()
    ins = _insert(s, ProductView).values(customer_id=customer_id, product_id=product_id, viewed_at=now)
    await s.execute(ins.on_conflict_do_update(index_elements=["customer_id", "product_id"], set_={"viewed_at": now}))
    keep = (
        select(ProductView.id)
        .where(ProductView.customer_id == customer_id)
        .order_by(ProductView.viewed_at.desc(), ProductView.id.desc())
        .limit(MAX_HISTORY)
    )
    await s.execute(
        delete(ProductView)
        .where(ProductView.customer_id == customer_id, ProductView.id.not_in(keep.scalar_subquery()))
        .execution_options(synchronize_session=False)
    )
    return now


def history_cursor(at: datetime) -> str:
    """The cursor after a row: its view time in microseconds since the epoch (a plain decimal cursor)."""
    return str((at - _EPOCH) // _US)


def cursor_time(cursor: int) -> datetime:
    """The view time a cursor names."""
    return _EPOCH + cursor * _US


async def list_history(
    s: AsyncSession, *, customer_id: int, before: datetime | None, limit: int
) -> tuple[list[dict[str, Any]], str | None]:
    """The shopper's 足迹, the last viewed first, one page (the cursor is a view time)."""
    q = (
        select(ProductView)
        .where(ProductView.customer_id == customer_id)
        .order_by(ProductView.viewed_at.desc(), ProductView.id.desc())
    )
    if before is not None:
        q = q.where(ProductView.viewed_at < before)
    rows = list((await s.scalars(q.limit(limit + 1))).all())
    nxt = history_cursor(rows[limit - 1].viewed_at) if len(rows) > limit else None
    rows = rows[:limit]
    cards = await product_cards(s, product_ids=[v.product_id for v in rows])
    items = [{**_card_out(cards.get(v.product_id), v.product_id), "viewed_at": v.viewed_at} for v in rows]
    return items, nxt


async def forget_view(s: AsyncSession, *, customer_id: int, product_id: int) -> None:
    """Remove one product from the shopper's 足迹 (idempotent)."""
    await s.execute(
        delete(ProductView).where(ProductView.customer_id == customer_id, ProductView.product_id == product_id)
    )


async def clear_history(s: AsyncSession, *, customer_id: int) -> None:
    """Empty the shopper's 足迹."""
    await s.execute(delete(ProductView).where(ProductView.customer_id == customer_id))
