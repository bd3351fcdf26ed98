"""What bargaining shows: activity cards, the share page, a shopper's bargains, the console's lists and
funnel, the share poster, and the sum invariant (start − Σ cuts = price) the tests and benchmark check."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.accounts import service as accounts
from fissionmall.bargain import rules
from fissionmall.bargain.activities import get_activity
from fissionmall.bargain.bargains import helps_of
from fissionmall.bargain.models import Bargain, BargainActivity, BargainHelp
from fissionmall.bargain.schemas import ActivityPublic
from fissionmall.catalog import service as catalog
from fissionmall.catalog.cards import product_cards
from fissionmall.core import clock
from fissionmall.core.db import keyset_page
from fissionmall.core.money import yuan_text
from fissionmall.distribution import sharing
from fissionmall.settings import Settings


async def activity_cards(s: AsyncSession, *, activities: Sequence[BargainActivity]) -> list[dict[str, Any]]:
    """The activities with their products' cards (one query for all); an off-shelf product's left out."""
    cards = await product_cards(s, product_ids=[a.product_id for a in activities])
    out = []
    for a in activities:
        card = cards.get(a.product_id)
        if card is None or not card.on_shelf:
            continue
        row = ActivityPublic.model_validate(a).model_dump()
        product = await catalog.get_product(s, product_id=a.product_id, include_hidden=True)
        sku = next((k.name for k in product.skus if k.id == a.sku_id), "")
        row["product"] = {"id": card.id, "title": card.title, "image": card.image, "sku_name": sku}
        out.append(row)
    return out


async def bargain_view(s: AsyncSession, *, bargain: Bargain, caller_id: int | None) -> dict[str, Any]:
    """The share page's data: progress, helpers' nicknames and cuts, the countdown, what the caller may do."""
    b = bargain
    act = await get_activity(s, activity_id=b.activity_id)
    helps = []
    mine = None
    for h in await helps_of(s, bargain_id=b.id):
        c = await accounts.get_customer(s, customer_id=h.helper_id)
        helps.append(
            {
                "nickname": c.nickname if c else "好友",
                "avatar_url": c.avatar_url if c else None,
                "cut_fen": h.cut_fen,
                "created_at": h.created_at,
            }
        )
        if h.helper_id == caller_id:
            mine = {"role": "helper", "cut_fen": h.cut_fen}
    if caller_id is not None and caller_id == b.customer_id:
        mine = {"role": "starter"}
    elif mine is None and caller_id is not None:
        mine = {"role": "visitor"}
    starter = await accounts.get_customer(s, customer_id=b.customer_id)
    product = await catalog.get_product(s, product_id=act.product_id, include_hidden=True)
    sku = next((k for k in product.skus if k.id == b.sku_id), None)
    now = clock.now()
    can_order = (
        rules.buy_refusal(
            status=b.status,
            expired=b.expires_at <= now,
            price_fen=b.price_fen,
            target_fen=b.target_fen,
            buy_early=act.buy_early,
        )
        is None
    )
    return {
        "id": b.id,
        "activity_id": b.activity_id,
        "status": b.status,
        "start_fen": b.start_fen,
        "price_fen": b.price_fen,
        "target_fen": b.target_fen,
        "helpers_needed": b.helpers_needed,
        "helps_count": b.helps,
        "helps": helps,
        "progress_bp": rules.progress_bp(start_fen=b.start_fen, price_fen=b.price_fen, target_fen=b.target_fen),
        "expires_at": b.expires_at,
        "buy_early": act.buy_early,
        "can_order": can_order and caller_id == b.customer_id,
        "order_id": b.order_id if caller_id == b.customer_id else None,
        "starter": {
            "nickname": starter.nickname if starter else "好友",
            "avatar_url": starter.avatar_url if starter else None,
        },
        "me": mine,
        "product": {
            "id": product.id,
            "title": product.title,
            "image": str(product.images[0]) if product.images else None,
            "sku_name": sku.name if sku else "",
            "list_price_fen": sku.price_fen if sku else b.start_fen,
        },
        "server_time": now,
    }


async def my_bargains(s: AsyncSession, *, customer_id: int, limit: int = 50) -> list[dict[str, Any]]:
    """The shopper's bargains, newest first, with their activities' titles."""
    q = (
        select(Bargain, BargainActivity.title)
        .join(BargainActivity, BargainActivity.id == Bargain.activity_id)
        .where(Bargain.customer_id == customer_id)
        .order_by(Bargain.id.desc())
        .limit(limit)
    )
    return [
        {
            "id": b.id,
            "activity_id": b.activity_id,
            "title": title,
            "status": b.status,
            "price_fen": b.price_fen,
            "target_fen": b.target_fen,
            "helps": b.helps,
            "helpers_needed": b.helpers_needed,
            "expires_at": b.expires_at,
            "order_id": b.order_id,
        }
        for b, title in (await s.execute(q)).all()
    ]


async def list_bargains(
    s: AsyncSession,
    *,
    activity_id: int | None = None,
    status: str | None = None,
    before_id: int | None = None,
    limit: int = 20,
) -> tuple[list[Bargain], str | None]:
    """Bargains newest first (of one activity, in one state), one keyset page."""
    q = select(Bargain).order_by(Bargain.id.desc())
    if activity_id is not None:
        q = q.where(Bargain.activity_id == activity_id)
    if status:
        q = q.where(Bargain.status == status)
    if before_id:
        q = q.where(Bargain.id < before_id)
    return await keyset_page(s, q, limit=limit)


async def funnel(s: AsyncSession, *, activity_id: int) -> dict[str, Any]:
    """started → helped at least once → reached → ordered → paid, with the discount given on paid
    bargains and what each new shopper who helped cost."""
    row = (
        await s.execute(
            select(
                func.count(),
                func.sum(case((Bargain.helps > 0, 1), else_=0)),
                func.sum(case((Bargain.reached_at.is_not(None), 1), else_=0)),
                func.sum(case((Bargain.orders_placed > 0, 1), else_=0)),
                func.sum(case((Bargain.status == "bought", 1), else_=0)),
                func.sum(Bargain.helps),
                func.sum(Bargain.new_helpers),
                func.sum(case((Bargain.status == "bought", Bargain.start_fen - Bargain.price_fen), else_=0)),
            ).where(Bargain.activity_id == activity_id)
        )
    ).one()
    started, helped, reached, ordered, paid, helps, new, discount = (int(x or 0) for x in row)
    return {
        "activity_id": activity_id,
        "started": started,
        "helped": helped,
        "reached": reached,
        "ordered": ordered,
        "paid": paid,
        "helps": helps,
        "new_helpers": new,
        "discount_fen": discount,
        "cost_per_new_fen": rules.cost_per_new_shopper(discount_fen=discount, new_helpers=new),
    }


async def sum_breaks(s: AsyncSession, *, activity_id: int | None = None) -> list[int]:
    """Bargains whose start − Σ cuts differs from their price, or whose helps differ from their rows
    (none, ever: the tests' and the benchmark's check)."""
    cuts = (
        select(BargainHelp.bargain_id, func.sum(BargainHelp.cut_fen).label("cut"), func.count().label("n"))
        .group_by(BargainHelp.bargain_id)
        .subquery()
    )
    q = (
        select(Bargain.id)
        .outerjoin(cuts, cuts.c.bargain_id == Bargain.id)
        .where(
            (Bargain.start_fen - func.coalesce(cuts.c.cut, 0) != Bargain.price_fen)
            | (func.coalesce(cuts.c.n, 0) != Bargain.helps)
            | (Bargain.price_fen < Bargain.target_fen)
        )
    )
    if activity_id is not None:
        q = q.where(Bargain.activity_id == activity_id)
    return list((await s.scalars(q)).all())


async def share(s: AsyncSession, *, bargain: Bargain, settings: Settings, base_url: str | None) -> dict[str, Any]:
    """The share link, QR code and poster of a bargain's page (distribution's poster code draws them)."""
    starter = await accounts.get_customer(s, customer_id=bargain.customer_id)
    act = await get_activity(s, activity_id=bargain.activity_id)
    out = await sharing.page_share(
        s,
        settings=settings,
        product_id=act.product_id,
        fragment=f"#/bargain/b/{bargain.id}",
        title=f"帮我砍一刀，{act.title} ¥{yuan_text(bargain.target_fen)} 抱回家",
        price_fen=bargain.target_fen,
        inviter=starter.nickname if starter else "好友",
        scene=f"bg={bargain.id}",
        base_url=base_url,
    )
    return {k: out[k] for k in ("share_url", "qrcode_png_url", "poster_png_url")}
