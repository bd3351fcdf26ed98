"""Console pages of 储值 (财务): 储值套餐 (list, add, edit, delete; the spending order), 余额明细 (every entry,
by customer), 储值记录 (top-ups, with the refund of the unspent principal), a customer's 余额 page with the
adjustment form; and the 客户 pages' 余额 card, column and filter (core/extras)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.accounts.models import Customer
from fissionmall.core import extras
from fissionmall.core.errors import AppError
from fissionmall.wallet import adjustments, ledger, packages, topups
from fissionmall.wallet.models import WalletBalance
from fissionmall.wallet.schemas import AdjustmentCreate, PackageCreate, PackageUpdate
from fissionmall.web.console import (
    PAGE_SIZE,
    Console,
    FormInvalid,
    console,
    cursor_of,
    error_text,
    fen_from_yuan,
    form_text,
    form_to,
    local_time,
    money,
    not_found,
    page_link,
    render,
    yuan_field,
)

router = APIRouter(prefix="/admin/wallet", include_in_schema=False)
NAV = [
    ("wallet-packages", "储值套餐", "/admin/wallet/packages", "marketing.read"),
    ("wallet-entries", "余额明细", "/admin/wallet/entries", "wallet.read"),
    ("wallet-topups", "储值记录", "/admin/wallet/top-ups", "wallet.read"),
]
NAV_SECTION = "finance"

PackageRead = Annotated[Console, Depends(console("marketing.read"))]
PackageWrite = Annotated[Console, Depends(console("marketing"))]
WalletRead = Annotated[Console, Depends(console("wallet.read"))]
WalletWrite = Annotated[Console, Depends(console("wallet"))]

LABELS = {
    "name": "套餐名称",
    "pay_fen": "储值金额",
    "bonus_fen": "赠送金额",
    "sort": "排序",
    "delta": "调整金额",
    "reason": "调整原因",
}
NOTICE = {
    "created": "储值套餐已添加",
    "saved": "修改已保存",
    "deleted": "储值套餐已删除",
    "settings": "余额使用顺序已保存",
    "refunded": "已退款：未使用的本金原路退回，赠送金额已收回",
    "adjusted": "余额已调整",
}
TOPUP_STATUS_ZH = {"pending": "待支付", "credited": "已到账", "cancelled": "已取消", "refunded": "已退款"}
BUCKET_ZH = {"principal": "本金", "bonus": "赠送"}


def signed(fen: int) -> str:
    """+¥5.00 / -¥5.00 / ¥0.00: a ledger movement."""
    return ("+" if fen > 0 else "-" if fen < 0 else "") + money(abs(fen))


# ---- 储值套餐 ------------------------------------------------------------------------------------------


def _package_form(form: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    v = {
        "name": form_text(form, "name", 200),
        "pay_fen": form_text(form, "pay_fen", 40),
        "bonus_fen": form_text(form, "bonus_fen", 40) or "0",
        "sort": form_text(form, "sort", 20) or "0",
        "active": form.get("active") == "on",
    }
    body = {**v, "name": v["name"] or None}
    return body, v


def _package_values(p: Any) -> dict[str, Any]:
    if p is None:
        return {"name": "", "pay_fen": "", "bonus_fen": "0", "sort": "0", "active": True}
    return {
        "name": p.name,
        "pay_fen": yuan_field(p.pay_fen),
        "bonus_fen": yuan_field(p.bonus_fen),
        "sort": str(p.sort_order),
        "active": p.active,
    }


def _errors(exc: FormInvalid | AppError) -> dict[str, str]:
    if isinstance(exc, FormInvalid):
        return {path.split(".")[0]: message for path, message in exc.errors.items()}
    field = str(exc.detail.get("field") or "form")
    return {field if field in LABELS else "form": error_text(exc)}


def _package_page(ctx: Console, p: Any, v: dict[str, Any], errors: dict[str, str] | None = None) -> Response:
    return render(
        ctx,
        "wallet/package_form.html",
        status_code=422 if errors else 200,
        active="wallet-packages",
        p=p,
        v=v,
        errors=errors or {},
        readonly=not ctx.can("marketing"),
    )


@router.get("/packages", response_class=HTMLResponse)
async def package_list(ctx: PackageRead, ok: str = "") -> Response:
    async with ctx.db.read() as s:
        rows = await packages.list_packages(s)
        bonus_first = await packages.spend_bonus_first(s)
    return render(
        ctx,
        "wallet/packages.html",
        active="wallet-packages",
        rows=rows,
        bonus_first=bonus_first,
        label_of=packages.label_of,
        notice=NOTICE.get(ok, ""),
    )


@router.get("/packages/new", response_class=HTMLResponse)
async def package_new(ctx: PackageWrite) -> Response:
    return _package_page(ctx, None, _package_values(None))


@router.post("/packages/new", response_class=HTMLResponse)
async def package_create(ctx: PackageWrite) -> Response:
    body, v = _package_form(await ctx.request.form())
    try:
        data = form_to(PackageCreate, body, money=("pay_fen", "bonus_fen"), whole=("sort",), labels=LABELS)
        async with ctx.db.tx() as s:
            await packages.create_package(s, data=data)
    except (FormInvalid, AppError) as exc:
        return _package_page(ctx, None, v, _errors(exc))
    return RedirectResponse("/admin/wallet/packages?ok=created", status_code=303)


async def _package(ctx: Console, package_id: int) -> Any:
    async with ctx.db.read() as s:
        try:
            return await packages.get_package(s, package_id=package_id)
        except AppError:
            return None


@router.get("/packages/{package_id}", response_class=HTMLResponse)
async def package_detail(package_id: int, ctx: PackageRead) -> Response:
    p = await _package(ctx, package_id)
    if p is None:
        return not_found(ctx, "储值套餐不存在")
    return _package_page(ctx, p, _package_values(p))


@router.post("/packages/{package_id}", response_class=HTMLResponse)
async def package_save(package_id: int, ctx: PackageWrite) -> Response:
    p = await _package(ctx, package_id)
    if p is None:
        return not_found(ctx, "储值套餐不存在")
    body, v = _package_form(await ctx.request.form())
    body["name"] = body["name"] or packages.default_name(
        fen_from_yuan(v["pay_fen"]) or 0, fen_from_yuan(v["bonus_fen"]) or 0
    )
    try:
        data = form_to(PackageUpdate, body, money=("pay_fen", "bonus_fen"), whole=("sort",), labels=LABELS)
        async with ctx.db.tx() as s:
            await packages.update_package(s, package_id=package_id, data=data)
    except (FormInvalid, AppError) as exc:
        return _package_page(ctx, p, v, _errors(exc))
    return RedirectResponse("/admin/wallet/packages?ok=saved", status_code=303)


@router.post("/packages/{package_id}/delete", response_class=HTMLResponse)
async def package_delete(package_id: int, ctx: PackageWrite) -> Response:
    try:
        async with ctx.db.tx() as s:
            await packages.delete_package(s, package_id=package_id)
    except AppError:
        return not_found(ctx, "储值套餐不存在")
    return RedirectResponse("/admin/wallet/packages?ok=deleted", status_code=303)


@router.get("", response_class=HTMLResponse)
async def wallet_home(ctx: PackageRead) -> Response:
    """/admin/wallet: the packages page (where the spending-order form lives too)."""
    return RedirectResponse("/admin/wallet/packages", status_code=303)


@router.post("/settings", response_class=HTMLResponse)
async def settings_save(ctx: WalletWrite) -> Response:
    bonus_first = form_text(await ctx.request.form(), "spend_order") == "bonus_first"
    async with ctx.db.tx() as s:
        await packages.set_bonus_first(s, bonus_first=bonus_first)
    return RedirectResponse("/admin/wallet/packages?ok=settings", status_code=303)


# ---- 余额明细 and 储值记录 -----------------------------------------------------------------------------


async def _nicknames(s: AsyncSession, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = await s.execute(select(Customer.id, Customer.nickname).where(Customer.id.in_(ids)))
    return {int(i): n for i, n in rows.all()}


@router.get("/entries", response_class=HTMLResponse)
async def entry_list(ctx: WalletRead, customer_id: str = "", kind: str = "", cursor: str = "") -> Response:
    cid = cursor_of(customer_id.strip()) if customer_id.strip() else None
    bad = bool(customer_id.strip()) and cid is None
    rows: list[Any] = []
    nxt = None
    names: dict[int, str] = {}
    if not bad:
        async with ctx.db.read() as s:
            rows, nxt = await ledger.list_entries(
                s,
                customer_id=cid,
                kind=kind if kind in ledger.KIND_ZH else None,
                before_id=cursor_of(cursor),
                limit=PAGE_SIZE,
            )
            names = await _nicknames(s, {e.customer_id for e in rows})
    return render(
        ctx,
        "wallet/entries.html",
        status_code=422 if bad else 200,
        active="wallet-entries",
        rows=rows,
        names=names,
        customer_id=customer_id.strip()[:20],
        kind=kind,
        KIND_ZH=ledger.KIND_ZH,
        bad=bad,
        signed=signed,
        next_url=page_link(ctx.request, nxt),
    )


async def _topup_page(
    ctx: Console, *, notice: str = "", error: str = "", status_code: int = 200, cursor: str = ""
) -> Response:
    async with ctx.db.read() as s:
        rows, nxt = await topups.list_topups(s, before_id=cursor_of(cursor), limit=PAGE_SIZE)
        names = await _nicknames(s, {t.customer_id for t in rows})
    return render(
        ctx,
        "wallet/topups.html",
        status_code=status_code,
        active="wallet-topups",
        rows=rows,
        names=names,
        STATUS_ZH=TOPUP_STATUS_ZH,
        notice=notice,
        error=error,
        next_url=page_link(ctx.request, nxt),
    )


@router.get("/top-ups", response_class=HTMLResponse)
async def topup_list(ctx: WalletRead, ok: str = "", cursor: str = "") -> Response:
    return await _topup_page(ctx, notice=NOTICE.get(ok, ""), cursor=cursor)


@router.post("/top-ups/{topup_id}/refund", response_class=HTMLResponse)
async def topup_refund(topup_id: int, ctx: WalletWrite) -> Response:
    try:
        async with ctx.db.tx() as s:
            await topups.refund_topup(
                s, topup_id=topup_id, operator_id=ctx.admin.id, operator=ctx.admin.username, reason=""
            )
    except AppError as exc:
        return await _topup_page(ctx, error=error_text(exc), status_code=exc.status)
    return RedirectResponse("/admin/wallet/top-ups?ok=refunded", status_code=303)


# ---- a customer's 余额 ---------------------------------------------------------------------------------


async def _customer_page(
    ctx: Console,
    customer_id: int,
    *,
    v: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    notice: str = "",
) -> Response:
    async with ctx.db.read() as s:
        c = await s.get(Customer, customer_id)
        if c is None:
            return not_found(ctx, "客户不存在")
        principal, bonus = await ledger.balance_of(s, customer_id=customer_id)
        rows, nxt = await ledger.list_entries(s, customer_id=customer_id, limit=PAGE_SIZE)
    return render(
        ctx,
        "wallet/customer.html",
        status_code=422 if errors else 200,
        active="wallet-entries",
        c=c,
        principal=principal,
        bonus=bonus,
        rows=rows,
        more=nxt is not None,
        KIND_ZH=ledger.KIND_ZH,
        BUCKET_ZH=BUCKET_ZH,
        signed=signed,
        v=v or {"delta": "", "reason": "", "bucket": "principal", "direction": "add"},
        errors=errors or {},
        notice=notice,
        writable=ctx.can("wallet"),
    )


@router.get("/customers/{customer_id}", response_class=HTMLResponse)
async def customer_wallet(customer_id: int, ctx: WalletRead, ok: str = "") -> Response:
    return await _customer_page(ctx, customer_id, notice=NOTICE.get(ok, ""))


@router.post("/customers/{customer_id}/adjust", response_class=HTMLResponse)
async def customer_adjust(customer_id: int, ctx: WalletWrite) -> Response:
    form = await ctx.request.form()
    v = {
        "delta": form_text(form, "delta", 40),
        "reason": form_text(form, "reason", 400),
        "bucket": "bonus" if form_text(form, "bucket") == "bonus" else "principal",
        "direction": "sub" if form_text(form, "direction") == "sub" else "add",
    }
    fen = fen_from_yuan(v["delta"]) if v["delta"] else None
    if fen is None:
        return await _customer_page(ctx, customer_id, v=v, errors={"delta": "请填写金额（元），如 50 或 12.50"})
    body = {"delta": -fen if v["direction"] == "sub" else fen, "reason": v["reason"], "bucket": v["bucket"]}
    try:
        data = form_to(AdjustmentCreate, body, labels=LABELS)
        async with ctx.db.tx() as s:
            await adjustments.adjust(
                s, customer_id=customer_id, data=data, operator_id=ctx.admin.id, operator=ctx.admin.username
            )
    except (FormInvalid, AppError) as exc:
        errs = _errors(exc)
        if isinstance(exc, AppError) and exc.code == "INSUFFICIENT_BALANCE":
            errs = {"delta": error_text(exc)}
        return await _customer_page(ctx, customer_id, v=v, errors=errs)
    return RedirectResponse(f"/admin/wallet/customers/{customer_id}?ok=adjusted", status_code=303)


# ---- the 客户 pages' card, column and filter ---------------------------------------------------------


@extras.contributes(extras.CUSTOMER_PANELS)
async def _customer_panel(s: AsyncSession, customer_id: int) -> dict[str, Any]:
    principal, bonus = await ledger.balance_of(s, customer_id=customer_id)
    rows, _ = await ledger.list_entries(s, customer_id=customer_id, limit=5)
    table = tuple(
        (
            local_time(e.created_at),
            ledger.KIND_ZH.get(e.kind, "余额变动"),
            signed(e.principal_delta + e.bonus_delta),
            e.reason or "—",
        )
        for e in rows
    )
    figures = (("余额", money(principal + bonus)), ("本金", money(principal)), ("赠送", money(bonus)))
    panel = extras.CustomerPanel(
        "余额",
        45,
        figures,
        ("时间", "类型", "金额", "说明"),
        table,
        "还没有余额变动",
        ("余额明细与调整", f"/admin/wallet/customers/{customer_id}"),
    )
    return {"wallet": panel}


@extras.contributes(extras.CUSTOMER_COLUMNS)
async def _customer_column(s: AsyncSession, customer_ids: list[int]) -> dict[str, Any]:
    found = await ledger.balances_of(s, customer_ids=customer_ids)
    return {"余额": {cid: money(sum(found.get(cid, (0, 0)))) for cid in customer_ids}}


@extras.contributes(extras.CUSTOMER_FILTERS)
async def _customer_filter(params: dict[str, str]) -> dict[str, Any]:
    fen = {k: fen_from_yuan(params[k]) if params.get(k) else None for k in ("balance_min", "balance_max")}
    errors = tuple((k, "请填写金额（元），如 100 或 19.90") for k, v in fen.items() if params.get(k) and v is None)
    lo, hi = fen["balance_min"], fen["balance_max"]
    where: Any = None
    if (lo is not None or hi is not None) and not errors:
        total = WalletBalance.principal_fen + WalletBalance.bonus_fen
        q = select(WalletBalance.customer_id)
        if lo is not None:
            q = q.where(total >= lo)
        if hi is not None:
            q = q.where(total <= hi)
        where = Customer.id.in_(q)
        if not lo:  # no wallet row is a balance of 0
            where = or_(where, Customer.id.not_in(select(WalletBalance.customer_id)))
    fields = (extras.FilterField("yuan_range", ("balance_min", "balance_max"), "余额", hint="本金加赠送，单位元"),)
    return {"wallet": extras.CustomerFilter(fields, where, errors, order=40)}
