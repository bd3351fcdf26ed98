"""Flash-sale HTTP: thin. The attempt route does no database work on the Redis path."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path
from fastapi.responses import JSONResponse

from fissionmall.accounts.deps import Admin, CurrentCustomer, require
from fissionmall.core import clock
from fissionmall.core.deps import Cursor, DbDep, Limit, SettingsDep
from fissionmall.core.schemas import IdPath, Page, page_limit, parse_cursor
from fissionmall.risk import rules as risk_rules
from fissionmall.seckill import attempts, live, mirror, shop
from fissionmall.seckill import sessions as seckill_sessions  # `sessions` is the shop's route below
from fissionmall.seckill.schemas import (
    AttemptCreate,
    AttemptPublic,
    BoardAdmin,
    CaptchaPublic,
    SessionAdmin,
    SessionCreate,
    SessionUpdate,
    TokenPublic,
    session_admin,
)

router = APIRouter(tags=["seckill"])
admin_router = APIRouter(tags=["admin: seckill"])
Marketing = Annotated[Admin, Depends(require("marketing"))]
MarketingRead = Annotated[Admin, Depends(require("marketing.read"))]
AttemptId = Annotated[str, Path(min_length=1, max_length=64)]


@router.get("/seckill/sessions")
async def sessions(db: DbDep) -> dict[str, Any]:
    """Sessions with their items, remaining stock and state, and the server time for countdowns."""
    async with db.read() as s:
        data = await shop.current_sessions(s)
    return _jsonable(data)


def _jsonable(data: Any) -> Any:
    from fissionmall.core.schemas import _iso

    if isinstance(data, dict):
        return {k: _jsonable(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_jsonable(v) for v in data]
    if hasattr(data, "tzinfo"):
        return _iso(data)
    return data


@router.get("/seckill/products/{product_id}")
async def product_offers(product_id: IdPath, db: DbDep) -> dict[str, Any]:
    """The product's flash-sale items running or to come (the product page's price, countdown and button),
    with the server time for countdowns; `items` is empty when the product is in no session."""
    async with db.read() as s:
        data = await shop.product_offers(s, product_id=product_id)
    return _jsonable(data)


@router.post("/seckill/items/{item_id}/token", response_model=TokenPublic)
async def token(item_id: IdPath, caller: CurrentCustomer, db: DbDep, settings: SettingsDep) -> dict[str, Any]:
    """The one-time path token an attempt needs (handed out shortly before the start and during the sale)."""
    return await attempts.issue_token(
        db,
        settings=settings,
        item_id=item_id,
        customer_id=caller.id,
        caller=attempts.Caller(caller.id, caller.ip, caller.device_id),
    )


@router.post(
    "/seckill/items/{item_id}/attempts", status_code=202, response_model=AttemptPublic, response_model_exclude_none=True
)
async def attempt(
    item_id: IdPath, body: AttemptCreate, caller: CurrentCustomer, db: DbDep, settings: SettingsDep
) -> Any:
    """Try to win: 202 {attempt_id, status}; poll GET /seckill/attempts/{id} for the order."""
    res = await attempts.attempt(
        db,
        settings=settings,
        item_id=item_id,
        caller=attempts.Caller(caller.id, caller.ip, caller.device_id),
        qty=body.qty,
        token=body.token,
        address=body.address.model_dump() if body.address else None,
        address_id=body.address_id,
        captcha_id=body.captcha.id if body.captcha else None,
        captcha_answer=body.captcha.answer if body.captcha else None,
    )
    return JSONResponse(res, status_code=202)


@router.get("/seckill/attempts/{attempt_id}", response_model=AttemptPublic, response_model_exclude_none=True)
async def attempt_status(attempt_id: AttemptId, caller: CurrentCustomer, db: DbDep) -> dict[str, Any]:
    return await attempts.attempt_status(db, attempt_id=attempt_id, customer_id=caller.id)


@router.post("/seckill/captcha", response_model=CaptchaPublic)
async def captcha(caller: CurrentCustomer, settings: SettingsDep) -> dict[str, str]:
    """An arithmetic challenge; answer it in the attempt's `captcha` after CAPTCHA_REQUIRED."""
    cid, q = risk_rules.new_captcha(settings.secret_key, customer_id=caller.id, now=int(clock.now().timestamp()))
    return {"captcha_id": cid, "question": q}


@router.post("/seckill/items/{item_id}/notify-me")
async def notify_me(item_id: IdPath, caller: CurrentCustomer, db: DbDep) -> dict[str, Any]:
    """Ask to be told when the item is restocked or comes back in a later session."""
    async with db.tx() as s:
        return await shop.notify_me(s, item_id=item_id, customer_id=caller.id)


@router.get("/seckill/items/{item_id}/similar")
async def similar(item_id: IdPath, db: DbDep) -> dict[str, Any]:
    """Products on sale like this one: what a sold-out shopper is shown."""
    async with db.read() as s:
        return {"items": await shop.similar_on_sale(s, item_id=item_id)}


# ---- admin ----------------------------------------------------------------------------------------


@admin_router.post("/seckill/sessions", response_model=SessionAdmin, status_code=201)
async def create_session(body: SessionCreate, _: Marketing, db: DbDep) -> SessionAdmin:
    async with db.tx() as s:
        sess = await seckill_sessions.create_session(
            s,
            title=body.title,
            starts_at=body.starts_at,
            ends_at=body.ends_at,
            items=[
                seckill_sessions.ItemSpec(i.sku_id, i.price_fen, i.stock, i.per_user_limit, i.new_users_only)
                for i in body.items
            ],
            repeat_days=body.repeat_days,
        )
    await mirror.publish_items(db, sess=sess)
    return session_admin(sess)


@admin_router.get("/seckill/sessions", response_model=Page[SessionAdmin])
async def list_sessions(
    _: MarketingRead,
    db: DbDep,
    limit: Limit = None,
    cursor: Cursor = None,
) -> Page[SessionAdmin]:
    async with db.read() as s:
        rows, nxt = await seckill_sessions.list_sessions(s, before_id=parse_cursor(cursor), limit=page_limit(limit))
    return Page(items=[session_admin(r) for r in rows], next_cursor=nxt)


@admin_router.get("/seckill/sessions/{session_id}", response_model=SessionAdmin)
async def get_session(session_id: IdPath, _: MarketingRead, db: DbDep) -> SessionAdmin:
    async with db.read() as s:
        return session_admin(await seckill_sessions.get_session(s, session_id=session_id))


@admin_router.put("/seckill/sessions/{session_id}", response_model=SessionAdmin)
async def update_session(session_id: IdPath, body: SessionUpdate, _: Marketing, db: DbDep) -> SessionAdmin:
    """Edit title, window, and per item price, limit, new-users flag and pool (`stock`): 409 POOL_BELOW_SOLD
    below what shoppers have taken, INSUFFICIENT_STOCK when the SKU cannot cover a raise."""
    sess = await seckill_sessions.edit_session(
        db,
        session_id=session_id,
        title=body.title,
        starts_at=body.starts_at,
        ends_at=body.ends_at,
        items=[c.model_dump() for c in body.items] if body.items else None,
    )
    return session_admin(sess)


@admin_router.delete("/seckill/sessions/{session_id}", response_model=SessionAdmin)
async def delete_session(session_id: IdPath, _: Marketing, db: DbDep) -> SessionAdmin:
    async with db.tx() as s:
        sess = await seckill_sessions.delete_session(s, session_id=session_id)
    await mirror.publish_items(db, sess=sess)
    return session_admin(sess)


@admin_router.get("/seckill/sessions/{session_id}/board", response_model=BoardAdmin)
async def board(session_id: IdPath, _: MarketingRead, db: DbDep) -> dict[str, Any]:
    """Live figures: attempts and refusals by reason, sold, paid, remaining."""
    return await live.board(db, session_id=session_id)
