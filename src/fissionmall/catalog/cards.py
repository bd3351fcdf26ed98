"""Product cards: what a list elsewhere in the mall (收藏, 足迹) shows of products it names by id.

Off-shelf and deleted products are returned too (`on_shelf` false), so a shopper's list can say 已下架
instead of silently losing the entry.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.catalog.models import Product


@dataclass(frozen=True, slots=True)
class ProductCard:
    id: int
    title: str
    image: str | None
    price_fen: int  # the lowest active SKU's price (0 when none is active)
    on_shelf: bool


async def product_cards(s: AsyncSession, *, product_ids: Collection[int]) -> dict[int, ProductCard]:
    """The cards of the products that exist among `product_ids`, by id (one query, SKUs loaded with them)."""
    if not product_ids:
        return {}
    rows = (await s.scalars(select(Product).where(Product.id.in_(set(product_ids))))).all()
    out: dict[int, ProductCard] = {}
    for p in rows:
        prices = [k.price_fen for k in p.skus if k.is_active]
        out[p.id] = ProductCard(
            id=p.id,
            title=p.title,
            image=str(p.images[0]) if p.images else None,
            price_fen=min(prices, default=0),
            on_shelf=p.status == "on_sale" and bool(prices),
        )
    return out
