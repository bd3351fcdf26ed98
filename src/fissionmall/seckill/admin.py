"""Console pages for flash sales: sessions, the session editor, the live board and the result report."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from fissionmall.core import clock
from fissionmall.core.errors import AppError
from fissionmall.core.money import yuan
from fissionmall.core.schemas import IdPath, in_window, parse_cursor, to_local
from fissionmall.seckill import live, mirror, rules
from fissionmall.seckill import sessions as seckill_sessions  # `sessions` is the list page below
from fissionmall.seckill.schemas import SessionCreate, SessionUpdate
from fissionmall.web.console import Console, FormInvalid, console, error_text, form_to, render, shop_zone

router = APIRouter(prefix="/admin/seckill", include_in_schema=False)
NAV = [("seckill", "秒杀", "/admin/seckill", "marketing.read")]
NAV_SECTION = "marketing"

Read = Annotated[Console, Depends(console("marketing.read"))]
Write = Annotated[Console, Depends(console("marketing"))]

STATE_ZH = {"upcoming": "即将开始", "active": "抢购中", "ended": "已结束", "sold_out": "已抢光"}
REASON_ZH = {
    "RATE_LIMITED": "频率超限",
    "CAPTCHA_REQUIRED": "需验证码",
    "NOT_STARTED": "未开始",
    "ENDED": "已结束",
    "BAD_TOKEN": "令牌无效",
    "LIMIT_REACHED": "超出限购",
    "SOLD_OUT": "已抢光",
    "NEW_USERS_ONLY": "仅限新客",
}
# Catalogue codes in a session form's words; seckill's own codes read as the table says.
ERRORS_ZH = {
    "INSUFFICIENT_STOCK": "商品库存不足以划出这个秒杀库存",
    "SKU_NOT_FOUND": "找不到这个规格（或商品未上架）",
}
ROWS = 3
LABELS = {
    "title": "场次名称",
    "starts_at": "开始时间",
    "ends_at": "结束时间",
    "items": "秒杀商品",
    "sku_id": "规格 ID",
    "price_fen": "秒杀价",
    "stock": "秒杀库存",
    "per_user_limit": "每人限购",
    "repeat_days": "每天重复的天数",
}
_last: dict[int, tuple[float, int]] = {}  # session → (monotonic time, attempts) of the last board view


def _parse_local(text: str) -> datetime | None:
    try:
        d = datetime.strptime(text, "%Y-%m-%dT%H:%M").replace(tzinfo=shop_zone())
    except ValueError:
        return None
    return d if in_window(d) else None  # the API's window (core.schemas.DateTimeIn)


@router.get("", response_class=HTMLResponse)
async def sessions(ctx: Read, cursor: str = "") -> Response:
    try:
        before = parse_cursor(cursor)
    except AppError:
        before = None
    async with ctx.db.read() as s:
        rows, nxt = await seckill_sessions.list_sessions(s, before_id=before, limit=20)
    now = clock.now()
    states = {r.id: STATE_ZH[rules.window_state(now, r.starts_at, r.ends_at)] for r in rows}
    ok = {"created": "场次已创建", "deleted": "场次已撤下，剩余库存已退回商品"}.get(
        ctx.request.query_params.get("ok", "")
    )
    return render(
        ctx,
        "seckill/sessions.html",
        active="seckill",
        rows=rows,
        states=states,
        ok=ok,
        next_url=f"/admin/seckill?cursor={nxt}" if nxt else None,
    )


@router.get("/new", response_class=HTMLResponse)
async def new_session(ctx: Write) -> Response:
    return render(ctx, "seckill/session_form.html", active="seckill", form={}, rows=[{}] * ROWS, error="")


@router.post("/new", response_class=HTMLResponse)
async def create_session(ctx: Write) -> Response:
    form = await ctx.request.form()
    f = {k: str(v) for k, v in form.items() if isinstance(v, str)}
    rows = [{k: f.get(f"{k}_{i}", "") for k in ("sku_id", "price", "stock", "limit", "new_only")} for i in range(ROWS)]
    error = ""
    filled = [i for i, r in enumerate(rows) if r["sku_id"].strip()]
    body = {
        "title": f.get("title", ""),
        "starts_at": _parse_local(f.get("starts_at", "")),
        "ends_at": _parse_local(f.get("ends_at", "")),
        "items": [
            {
                "sku_id": rows[i]["sku_id"],
                "price_fen": rows[i]["price"],
                "stock": rows[i]["stock"],
                "per_user_limit": rows[i]["limit"] or "1",
                "new_users_only": rows[i]["new_only"] == "on",
            }
            for i in filled
        ],
        "repeat_days": f.get("repeat_days", "") or "0",
    }
    # The two refusals operators know by heart, worded as before; the rest comes from the API's schema.
    title = f.get("title", "").strip()
    if not title or len(title) > 64:
        error = "请填写场次名称（64 字以内）"
    elif body["starts_at"] is None or body["ends_at"] is None:
        error = "请填写开始和结束时间"
    else:
        try:
            data = form_to(
                SessionCreate,
                body,
                money=("price_fen",),
                whole=("sku_id", "stock", "per_user_limit", "repeat_days"),
                labels=LABELS,
            )
        except FormInvalid as exc:
            error = _row_message(exc, filled)
    if not error:
        items = [
            seckill_sessions.ItemSpec(i.sku_id, i.price_fen, i.stock, i.per_user_limit, i.new_users_only)
            for i in data.items
        ]
        try:
            async with ctx.db.tx() as s:
                sess = await seckill_sessions.create_session(
                    s,
                    title=data.title,
                    starts_at=data.starts_at,
                    ends_at=data.ends_at,
                    items=items,
                    repeat_days=data.repeat_days,
                )
            await mirror.publish_items(ctx.db, sess=sess)
            return RedirectResponse("/admin/seckill?ok=created", status_code=303)
        except AppError as exc:
            error = ERRORS_ZH.get(exc.code) or error_text(exc)
    return render(ctx, "seckill/session_form.html", status_code=422, active="seckill", form=f, rows=rows, error=error)


async def _board(ctx: Console, session_id: int) -> dict[str, Any]:
    b = await live.board(ctx.db, session_id=session_id)
    total = sum(r["attempts"] for r in b["items"])
    now = time.monotonic()
    prev = _last.get(session_id)
    _last[session_id] = (now, total)
    b["attempts_per_s"] = round((total - prev[1]) / (now - prev[0]), 1) if prev and now > prev[0] else 0.0
    b["attempts"] = total
    b["state_zh"] = STATE_ZH[b["state"]]
    return b


def _no_session(ctx: Console) -> Response:
    return render(ctx, "message.html", status_code=404, title="找不到场次", message="这个秒杀场次不存在或已撤下。")


def _local(d: datetime) -> str:
    return to_local(d).strftime("%Y-%m-%dT%H:%M")


async def _edit_page(
    ctx: Console, session_id: int, *, form: dict[str, str] | None = None, error: str = "", status_code: int = 200
) -> Response:
    async with ctx.db.read() as s:
        try:
            sess = await seckill_sessions.get_session(s, session_id=session_id)
        except AppError:
            return _no_session(ctx)
    figures = {r["item_id"]: r for r in (await live.board(ctx.db, session_id=session_id))["items"]}
    if form is None:
        form = {"title": sess.title, "starts_at": _local(sess.starts_at), "ends_at": _local(sess.ends_at)}
        for it in sess.items:
            form |= {
                f"price_{it.id}": yuan(it.price_fen),
                f"stock_{it.id}": str(it.pool),
                f"limit_{it.id}": str(it.per_user_limit),
                f"new_only_{it.id}": "on" if it.new_users_only else "",
            }
    return render(
        ctx,
        "seckill/session_edit.html",
        status_code=status_code,
        active="seckill",
        sess=sess,
        figures=figures,
        form=form,
        error=error,
    )


@router.get("/{session_id}/edit", response_class=HTMLResponse)
async def edit_session_form(ctx: Write, session_id: IdPath) -> Response:
    return await _edit_page(ctx, session_id)


def _row_message(exc: FormInvalid, filled: list[int]) -> str:
    """The schema's first refusal, with the row named as the operator counts the form's rows."""
    path, message = next(iter(exc.errors.items()))
    where = path.split(".")
    if where[0] == "items" and len(where) > 1 and where[1].isdigit():
        # a row's own refusals keep the words operators learned; other fields say what the schema says
        message = _ROW_TEXT.get(where[2] if len(where) > 2 else "", message)
        message = f"第 {filled[int(where[1])] + 1} 行：{message}"
    return message


_ROW_TEXT = {
    "sku_id": "请填写规格 ID 和秒杀价",
    "price_fen": "请填写规格 ID 和秒杀价",
    "stock": "库存和限购须为正整数",
    "per_user_limit": "库存和限购须为正整数",
}


@router.post("/{session_id}/edit", response_class=HTMLResponse)
async def edit_session(ctx: Write, session_id: IdPath) -> Response:
    form = await ctx.request.form()
    f = {k: str(v) for k, v in form.items() if isinstance(v, str)}
    starts, ends = _parse_local(f.get("starts_at", "")), _parse_local(f.get("ends_at", ""))
    title = f.get("title", "").strip()
    error = ""
    if not title or len(title) > 64:
        error = "请填写场次名称（64 字以内）"
    elif starts is None or ends is None:
        error = "请填写开始和结束时间"
    rows: list[dict[str, Any]] = []
    for key in f:
        if not key.startswith("pool_seen_") or not key[10:].isdigit():
            continue
        item_id = key[10:]
        row: dict[str, Any] = {
            "id": item_id,
            "price_fen": f.get(f"price_{item_id}", ""),
            "per_user_limit": f.get(f"limit_{item_id}", ""),
            "new_users_only": f.get(f"new_only_{item_id}") == "on",
        }
        # Only a pool the operator changed is sent: a price edit must not undo a pool edit made meanwhile.
        if f.get(f"stock_{item_id}", "").strip() != f[key].strip():
            row["stock"] = f.get(f"stock_{item_id}", "")
        rows.append(row)
    changes: list[dict[str, Any]] = []
    if not error:
        try:
            data = form_to(
                SessionUpdate,
                {"items": rows},
                money=("price_fen",),
                whole=("id", "stock", "per_user_limit"),
                labels=LABELS,
            )
            changes = [i.model_dump(exclude_unset=True) for i in data.items or []]
        except FormInvalid as exc:
            error = _item_message(exc, rows)
    if error:
        return await _edit_page(ctx, session_id, form=f, error=error, status_code=422)
    try:
        await seckill_sessions.edit_session(
            ctx.db, session_id=session_id, title=title, starts_at=starts, ends_at=ends, items=changes
        )
    except AppError as exc:
        return await _edit_page(ctx, session_id, form=f, error=_edit_error(exc), status_code=exc.status)
    return RedirectResponse(f"/admin/seckill/{session_id}?ok=edited", status_code=303)


_ITEM_TEXT = {
    "price_fen": "请填写秒杀价",
    "stock": "秒杀库存须为 1 到 100000000 的整数",
    "per_user_limit": "每人限购须为 1 到 999 的整数",
}


def _item_message(exc: FormInvalid, rows: list[dict[str, Any]]) -> str:
    """The schema's first refusal of an item, named by the item as the edit page lists them."""
    path, message = next(iter(exc.errors.items()))
    where = path.split(".")
    if where[0] == "items" and len(where) > 2 and where[1].isdigit():
        return f"商品 {rows[int(where[1])]['id']}：{_ITEM_TEXT.get(where[2], message)}"
    return message


def _edit_error(exc: AppError) -> str:
    d = exc.detail
    if exc.code == "POOL_BELOW_SOLD":
        return f"商品 {d.get('item_id')}：秒杀库存不能少于已被抢走的 {d.get('taken')} 件"
    if exc.code == "INSUFFICIENT_STOCK":
        return f"规格 {d.get('sku_id')} 的商品库存不够加到这个秒杀库存"
    return ERRORS_ZH.get(exc.code) or error_text(exc)


@router.get("/{session_id}", response_class=HTMLResponse)
async def session_page(ctx: Read, session_id: IdPath) -> Response:
    async with ctx.db.read() as s:
        try:
            sess = await seckill_sessions.get_session(s, session_id=session_id)
        except AppError:
            return _no_session(ctx)
    ok = "场次已保存" if ctx.request.query_params.get("ok") == "edited" else ""
    return render(
        ctx,
        "seckill/board.html",
        active="seckill",
        sess=sess,
        b=await _board(ctx, session_id),
        reasons=REASON_ZH,
        ok=ok,
    )


@router.get("/{session_id}/board", response_class=HTMLResponse)
async def board_partial(ctx: Read, session_id: IdPath) -> Response:
    return render(ctx, "seckill/_board.html", b=await _board(ctx, session_id), reasons=REASON_ZH)


@router.post("/{session_id}/delete", response_class=HTMLResponse)
async def delete(ctx: Write, session_id: IdPath) -> Response:
    try:
        async with ctx.db.tx() as s:
            sess = await seckill_sessions.delete_session(s, session_id=session_id)
        await mirror.publish_items(ctx.db, sess=sess)
    except AppError as exc:
        return render(ctx, "message.html", status_code=404, title="无法撤下", message=error_text(exc))
    return RedirectResponse("/admin/seckill?ok=deleted", status_code=303)
