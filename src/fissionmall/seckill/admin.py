"""Console pages for flash sales: sessions, the session editor, the live board and the result report."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from fissionmall.catalog.admin import clean_ids, picked_skus
from fissionmall.core import clock, codes
from fissionmall.core.errors import AppError
from fissionmall.core.money import yuan
from fissionmall.core.schemas import IdPath, in_window, parse_cursor, to_local
from fissionmall.seckill import live, mirror, rules
from fissionmall.seckill import sessions as seckill_sessions  # `sessions` is the list page below
from fissionmall.seckill.errors import SeckillError
from fissionmall.seckill.schemas import SessionCreate, SessionUpdate
from fissionmall.web.console import (
    Console,
    FormInvalid,
    console,
    error_text,
    form_list,
    form_text,
    form_to,
    render,
    shop_zone,
)

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


def reason_text(code: str) -> str:
    """A refusal on the live board in the merchant's words: the board's own short word, else the one code
    table's text (a stored reason such as INVALID or OUT_OF_STOCK), never the bare code."""
    return REASON_ZH.get(code) or codes.table().get(code) or "其他原因"


# Catalogue codes in a session form's words; seckill's own codes read as the table says.
ERRORS_ZH = {
    "INSUFFICIENT_STOCK": "商品库存不足以划出这个秒杀库存",
    "SKU_NOT_FOUND": "找不到这个规格（或商品未上架）",
}
LABELS = {
    "title": "场次名称",
    "starts_at": "开始时间",
    "ends_at": "结束时间",
    "items": "秒杀商品",
    "sku_id": "商品规格",
    "price_fen": "秒杀价",
    "stock": "秒杀库存",
    "per_user_limit": "每人限购",
    "repeat_days": "每天重复的天数",
}
_last: dict[int, tuple[float, int]] = {}  # session → (monotonic time, attempts) of the last board view
_ROW_FIELDS = ("sku_id", "price", "stock", "limit", "new_only")
# a schema field of an item → the row's cell its refusal is shown beside
_ROW_CELL = {"sku_id": "sku", "price_fen": "price", "stock": "stock", "per_user_limit": "limit"}
_ROW_TEXT = {
    "price_fen": "请填写秒杀价（元），如 19.9",
    "stock": "秒杀库存须为 1 到 100000000 的整数",
    "per_user_limit": "每人限购须为 1 到 999 的整数",
}
# a session-level refusal → the field it is shown beside
_CODE_FIELD = {"WINDOW_INVALID": "ends_at", "DUPLICATE_SKU": "items"}


def _parse_local(text: str) -> datetime | None:
    try:
        d = datetime.strptime(text, "%Y-%m-%dT%H:%M").replace(tzinfo=shop_zone())
    except ValueError:
        return None
    return d if in_window(d) else None  # the API's window (core.schemas.DateTimeIn)


@dataclass
class ItemRow:
    """One chosen SKU of the session form as typed; `item` is the picker's view of the SKU (None when gone)."""

    sku_id: str
    price: str = ""
    stock: str = ""
    limit: str = "1"
    new_only: str = ""
    item: dict[str, Any] | None = None
    errors: dict[str, str] = field(default_factory=dict)  # "sku" | "price" | "stock" | "limit" → message


@dataclass
class SessionForm:
    """The new-session form as typed, so a refused form comes back exactly as it was, each refusal beside
    its field."""

    title: str = ""
    starts_at: str = ""
    ends_at: str = ""
    repeat_days: str = "0"
    rows: list[ItemRow] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def has_errors(self) -> bool:
        return bool(self.errors) or any(r.errors for r in self.rows)

    def put(self, path: str, message: str) -> None:
        """A refusal at `path` ("title", "items.1.price_fen") beside its field."""
        key, *rest = path.split(".")
        at = int(rest[0]) if rest and rest[0].isdigit() else -1
        if key == "items" and 0 <= at < len(self.rows):
            sub = rest[1] if len(rest) > 1 else ""
            self.rows[at].errors.setdefault(_ROW_CELL.get(sub, "sku"), _ROW_TEXT.get(sub, message))
        else:
            self.errors.setdefault(key if key in LABELS else "form", message)

    def put_sku(self, sku_id: Any, cell: str, message: str) -> None:
        """A refusal about one SKU beside that SKU's row (the form's top when no row has it)."""
        for row in self.rows:
            if row.sku_id == str(sku_id):
                row.errors.setdefault(cell, message)
                return
        self.errors.setdefault("form", message)


async def _read_form(ctx: Console) -> SessionForm:
    form = await ctx.request.form()
    cols = {k: form_list(form, k) for k in _ROW_FIELDS}

    def cell(k: str, i: int) -> str:
        return cols[k][i][:40] if i < len(cols[k]) else ""

    rows = [
        ItemRow(cell("sku_id", i), cell("price", i), cell("stock", i), cell("limit", i), cell("new_only", i))
        for i in range(len(cols["sku_id"]))
        if cols["sku_id"][i]
    ][:MAX_ITEMS]
    chosen = {x["id"]: x for x in await picked_skus(ctx.db, clean_ids([r.sku_id for r in rows]))}
    for r in rows:
        r.item = chosen.get(int(r.sku_id)) if r.sku_id.isdigit() and len(r.sku_id) < 19 else None
    return SessionForm(
        title=form_text(form, "title", 200),
        starts_at=form_text(form, "starts_at", 40),
        ends_at=form_text(form, "ends_at", 40),
        repeat_days=form_text(form, "repeat_days", 10) or "0",
        rows=rows,
    )


MAX_ITEMS = 50


def _validated(f: SessionForm) -> SessionCreate | None:
    """The form through the API's schema and the flash-price rule, or None with every refusal placed."""
    if not f.title or len(f.title) > 64:
        f.errors["title"] = "请填写场次名称（64 字以内）"
    starts, ends = _parse_local(f.starts_at), _parse_local(f.ends_at)
    if starts is None:
        f.errors["starts_at"] = "请选择开始时间"
    if ends is None:
        f.errors["ends_at"] = "请选择结束时间"
    if not f.rows:
        f.errors["items"] = "请选择至少一个秒杀商品规格"
    for r in f.rows:
        if r.item is None:
            r.errors["sku"] = "这个规格已下架或不存在，请移除后重新选择"
    body = {
        "title": f.title,
        "starts_at": starts,
        "ends_at": ends,
        "items": [
            {
                "sku_id": r.sku_id,
                "price_fen": r.price,
                "stock": r.stock,
                "per_user_limit": r.limit or "1",
                "new_users_only": r.new_only == "1",
            }
            for r in f.rows
        ],
        "repeat_days": f.repeat_days,
    }
    data = None
    try:
        data = form_to(
            SessionCreate,
            body,
            money=("price_fen",),
            whole=("sku_id", "stock", "per_user_limit", "repeat_days"),
            labels=LABELS,
        )
    except FormInvalid as exc:
        for path, message in exc.errors.items():
            if path not in ("starts_at", "ends_at") or path not in f.errors:
                f.put(path, message)
    if data is not None:
        if data.ends_at <= data.starts_at:
            f.errors["ends_at"] = SeckillError.WINDOW_INVALID.text
        for row, it in zip(f.rows, data.items, strict=True):
            if row.item is not None:
                try:
                    rules.check_flash_price(
                        price_fen=it.price_fen, sku_price_fen=row.item["price_fen"], sku_id=it.sku_id
                    )
                except AppError as exc:
                    row.errors.setdefault("price", error_text(exc))
    return None if f.has_errors else data


def _session_page(ctx: Console, f: SessionForm, *, status_code: int = 200) -> Response:
    return render(
        ctx,
        "seckill/session_form.html",
        status_code=status_code,
        active="seckill",
        form=f,
        now_local=to_local(clock.now()).strftime("%Y-%m-%dT%H:%M:%S"),  # the preview's countdown, in shop time
        shop_tz=_ZONE_ZH.get(ctx.settings.timezone, ctx.settings.timezone),
    )


_ZONE_ZH = {"Asia/Shanghai": "北京时间", "Asia/Hong_Kong": "香港时间", "Asia/Taipei": "台北时间"}


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
    return _session_page(ctx, SessionForm())


@router.post("/new", response_class=HTMLResponse)
async def create_session(ctx: Write) -> Response:
    f = await _read_form(ctx)
    data = _validated(f)
    if data is not None:
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
            _place_refusal(f, exc)
    return _session_page(ctx, f, status_code=422)


def _place_refusal(f: SessionForm, exc: AppError) -> None:
    text = ERRORS_ZH.get(exc.code) or error_text(exc)
    sku_id = exc.detail.get("sku_id")
    if sku_id is not None:
        cell = {"INSUFFICIENT_STOCK": "stock", "PRICE_NOT_BELOW_SKU": "price"}.get(exc.code, "sku")
        f.put_sku(sku_id, cell, text)
    else:
        f.errors.setdefault(_CODE_FIELD.get(exc.code, "form"), text)


async def _board(ctx: Console, session_id: int) -> dict[str, Any]:
    b = await live.board(ctx.db, session_id=session_id)
    total = sum(r["attempts"] for r in b["items"])
    now = time.monotonic()
    prev = _last.get(session_id)
    _last[session_id] = (now, total)
    b["attempts_per_s"] = round((total - prev[1]) / (now - prev[0]), 1) if prev and now > prev[0] else 0.0
    b["attempts"] = total
    b["state_zh"] = STATE_ZH[b["state"]]
    skus = await _sku_items(ctx, [r["sku_id"] for r in b["items"]])
    for r in b["items"]:
        r["sku"] = skus.get(r["sku_id"])  # names, not ids, on the board
    return b


def _no_session(ctx: Console) -> Response:
    return render(ctx, "message.html", status_code=404, title="找不到场次", message="这个秒杀场次不存在或已撤下。")


def _local(d: datetime) -> str:
    return to_local(d).strftime("%Y-%m-%dT%H:%M")


async def _sku_items(ctx: Console, sku_ids: list[int]) -> dict[int, dict[str, Any]]:
    """The picker's view of the SKUs (title, SKU name, thumbnail, own price), by SKU id."""
    return {x["id"]: x for x in await picked_skus(ctx.db, sku_ids)}


async def _edit_page(
    ctx: Console,
    session_id: int,
    *,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
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
        skus=await _sku_items(ctx, [it.sku_id for it in sess.items]),
        figures=figures,
        form=form,
        errors=errors or {},
    )


@router.get("/{session_id}/edit", response_class=HTMLResponse)
async def edit_session_form(ctx: Write, session_id: IdPath) -> Response:
    return await _edit_page(ctx, session_id)


def _edit_rows(f: dict[str, str]) -> list[dict[str, Any]]:
    """The items of the edit form as typed, one per `pool_seen_<item>` field."""
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
    return rows


@router.post("/{session_id}/edit", response_class=HTMLResponse)
async def edit_session(ctx: Write, session_id: IdPath) -> Response:
    form = await ctx.request.form()
    f = {k: str(v) for k, v in form.items() if isinstance(v, str)}
    starts, ends = _parse_local(f.get("starts_at", "")), _parse_local(f.get("ends_at", ""))
    title = f.get("title", "").strip()
    errors: dict[str, str] = {}
    if not title or len(title) > 64:
        errors["title"] = "请填写场次名称（64 字以内）"
    if starts is None:
        errors["starts_at"] = "请选择开始时间"
    if ends is None:
        errors["ends_at"] = "请选择结束时间"
    rows = _edit_rows(f)
    changes: list[dict[str, Any]] = []
    try:
        data = form_to(
            SessionUpdate, {"items": rows}, money=("price_fen",), whole=("id", "stock", "per_user_limit"), labels=LABELS
        )
        changes = [i.model_dump(exclude_unset=True) for i in data.items or []]
    except FormInvalid as exc:
        for path, message in exc.errors.items():
            where = path.split(".")
            if where[0] == "items" and len(where) > 2 and where[1].isdigit():
                cell = _ROW_CELL.get(where[2], "price")
                errors.setdefault(f"{cell}_{rows[int(where[1])]['id']}", _ROW_TEXT.get(where[2], message))
            else:
                errors.setdefault("form", message)
    errors |= await _price_errors(ctx, session_id, changes)
    if errors:
        return await _edit_page(ctx, session_id, form=f, errors=errors, status_code=422)
    try:
        await seckill_sessions.edit_session(
            ctx.db, session_id=session_id, title=title, starts_at=starts, ends_at=ends, items=changes
        )
    except AppError as exc:
        return await _edit_page(
            ctx, session_id, form=f, errors=await _edit_error(ctx, session_id, exc), status_code=exc.status
        )
    return RedirectResponse(f"/admin/seckill/{session_id}?ok=edited", status_code=303)


async def _price_errors(ctx: Console, session_id: int, changes: list[dict[str, Any]]) -> dict[str, str]:
    """Each new flash price at or above its SKU's own price, beside its field (the service says so too, for
    the first one; the form shows them all at once)."""
    priced = {c["id"]: c["price_fen"] for c in changes if c.get("price_fen") is not None}
    if not priced:
        return {}
    async with ctx.db.read() as s:
        try:
            sku_of = {it.id: it.sku_id for it in (await seckill_sessions.get_session(s, session_id=session_id)).items}
        except AppError:
            return {}
    skus = await _sku_items(ctx, list(sku_of.values()))
    out: dict[str, str] = {}
    for item_id, price in priced.items():
        sku = skus.get(sku_of.get(item_id, 0))
        if sku is None:
            continue
        try:
            rules.check_flash_price(price_fen=price, sku_price_fen=sku["price_fen"], sku_id=sku["id"])
        except AppError as exc:
            out[f"price_{item_id}"] = error_text(exc)
    return out


async def _edit_error(ctx: Console, session_id: int, exc: AppError) -> dict[str, str]:
    """A refusal of the service beside the field it is about."""
    d = exc.detail
    if exc.code == "POOL_BELOW_SOLD":
        return {f"stock_{d.get('item_id')}": f"秒杀库存不能少于已被抢走的 {d.get('taken')} 件"}
    if exc.code == "WINDOW_INVALID":
        return {"ends_at": SeckillError.WINDOW_INVALID.text}
    if exc.code in ("INSUFFICIENT_STOCK", "PRICE_NOT_BELOW_SKU") and "sku_id" in d:
        async with ctx.db.read() as s:
            items = (await seckill_sessions.get_session(s, session_id=session_id)).items
        cell = "stock" if exc.code == "INSUFFICIENT_STOCK" else "price"
        text = "商品库存不够加到这个秒杀库存" if cell == "stock" else error_text(exc)
        for it in items:
            if it.sku_id == d["sku_id"]:
                return {f"{cell}_{it.id}": text}
    return {"form": ERRORS_ZH.get(exc.code) or error_text(exc)}


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
        reasons=reason_text,
        ok=ok,
    )


@router.get("/{session_id}/board", response_class=HTMLResponse)
async def board_partial(ctx: Read, session_id: IdPath) -> Response:
    return render(ctx, "seckill/_board.html", b=await _board(ctx, session_id), reasons=reason_text)


@router.post("/{session_id}/delete", response_class=HTMLResponse)
async def delete(ctx: Write, session_id: IdPath) -> Response:
    try:
        async with ctx.db.tx() as s:
            sess = await seckill_sessions.delete_session(s, session_id=session_id)
        await mirror.publish_items(ctx.db, sess=sess)
    except AppError as exc:
        return render(ctx, "message.html", status_code=404, title="无法撤下", message=error_text(exc))
    return RedirectResponse("/admin/seckill?ok=deleted", status_code=303)
