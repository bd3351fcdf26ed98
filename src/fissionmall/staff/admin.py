"""Console page 员工: the owner creates staff accounts, disables and enables them, resets passwords and
changes roles (accounts/staff.py). Only the owner role opens it (permission "staff", granted to no other
role). `fissionmall create-admin` stays the way to make the first owner."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from fissionmall.accounts import staff
from fissionmall.accounts.rules import ROLES
from fissionmall.core.errors import AppError
from fissionmall.core.schemas import IdPath
from fissionmall.web.console import (
    ROLE_ZH,
    Console,
    console,
    error_text,
    form_text,
    render,
)

router = APIRouter(prefix="/admin/staff", include_in_schema=False)
NAV = [("staff", "员工", "/admin/staff", "staff")]
NAV_SECTION = "settings"

Owner = Annotated[Console, Depends(console("staff"))]

ROLE_HINT = {
    "owner": "全部权限，包括员工管理",
    "operator": "商品、订单发货、营销工具、客户",
    "finance": "售后退款审核、佣金提现、查看订单和客户",
    "store_staff": "到店核销、查看订单",
}
NOTICES = {
    "disabled": "已停用，该员工的登录已全部退出",
    "enabled": "已启用，该员工可以重新登录",
    "role": "角色已修改，该员工需重新登录后按新角色使用",
}


async def _page(
    ctx: Console,
    *,
    status_code: int = 200,
    error: str = "",
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    handed: dict[str, str] | None = None,
    notice: str = "",
) -> Response:
    async with ctx.db.read() as s:
        rows = await staff.list_staff(s)
    return render(
        ctx,
        "staff/index.html",
        status_code=status_code,
        active="staff",
        rows=rows,
        roles=ROLES,
        role_hint=ROLE_HINT,
        error=error,
        errors=errors or {},
        values=values or {"role": "operator"},
        handed=handed,
        notice=notice or NOTICES.get(ctx.request.query_params.get("ok", ""), ""),
    )


@router.get("", response_class=HTMLResponse)
async def staff_page(ctx: Owner) -> Response:
    return await _page(ctx)


_CREATE_FIELDS = {
    "USERNAME_INVALID": "username",
    "USERNAME_TAKEN": "username",
    "ROLE_UNKNOWN": "role",
    "PASSWORD_TOO_SHORT": "password",
    "PASSWORD_TOO_LONG": "password",
}


@router.post("", response_class=HTMLResponse)
async def create(ctx: Owner) -> Response:
    form = await ctx.request.form()
    values = {"username": form_text(form, "username", 64), "role": form_text(form, "role", 20)}
    password = form.get("password")
    typed = password if isinstance(password, str) else ""
    try:
        a, initial = await staff.create_staff(
            ctx.db, username=values["username"], role=values["role"], password=typed or None
        )
    except AppError as exc:
        field = _CREATE_FIELDS.get(exc.code, "form")
        return await _page(ctx, status_code=422, errors={field: error_text(exc)}, values=values)
    handed = {"username": a.username, "password": initial, "generated": "" if typed else "1", "kind": "created"}
    return await _page(ctx, handed=handed, notice=f"已创建员工 {a.username}（{ROLE_ZH[a.role]}）")


async def _changed(ctx: Console, apply: Any, ok: str) -> Response:
    try:
        await apply()
    except AppError as exc:
        return await _page(ctx, status_code=exc.status if exc.status in (404, 409) else 422, error=error_text(exc))
    return RedirectResponse(f"/admin/staff?ok={ok}", status_code=303)


@router.post("/{admin_id}/active", response_class=HTMLResponse)
async def set_active(ctx: Owner, admin_id: IdPath) -> Response:
    active = form_text(await ctx.request.form(), "active", 2) == "1"

    async def apply() -> None:
        await staff.set_active(ctx.db, actor_id=ctx.admin.id, admin_id=admin_id, active=active)

    return await _changed(ctx, apply, "enabled" if active else "disabled")


@router.post("/{admin_id}/role", response_class=HTMLResponse)
async def set_role(ctx: Owner, admin_id: IdPath) -> Response:
    role = form_text(await ctx.request.form(), "role", 20)

    async def apply() -> None:
        await staff.set_role(ctx.db, actor_id=ctx.admin.id, admin_id=admin_id, role=role)

    return await _changed(ctx, apply, "role")


@router.post("/{admin_id}/password", response_class=HTMLResponse)
async def reset_password(ctx: Owner, admin_id: IdPath) -> Response:
    password = (await ctx.request.form()).get("password")
    typed = password if isinstance(password, str) else ""
    try:
        a, new = await staff.reset_password(ctx.db, actor_id=ctx.admin.id, admin_id=admin_id, password=typed or None)
    except AppError as exc:
        return await _page(ctx, status_code=exc.status if exc.status in (404, 409) else 422, error=error_text(exc))
    handed = {"username": a.username, "password": new, "generated": "" if typed else "1", "kind": "reset"}
    return await _page(ctx, handed=handed, notice=f"已重置 {a.username} 的密码，该员工的登录已全部退出")
