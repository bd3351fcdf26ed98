"""Console pages: 运费模板 (list, create, edit with a province picker, set default, delete)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from fissionmall.core import regions
from fissionmall.core.errors import AppError
from fissionmall.core.money import yuan
from fissionmall.shipping import service
from fissionmall.shipping.schemas import TemplateCreate, TemplateUpdate
from fissionmall.web.console import Console, FormInvalid, console, error_text, form_list, form_text, form_to, render

router = APIRouter(prefix="/admin/shipping", include_in_schema=False)
NAV = [("shipping", "运费模板", "/admin/shipping", "catalog.read")]
NAV_SECTION = "settings"

Read = Annotated[Console, Depends(console("catalog.read"))]
Write = Annotated[Console, Depends(console("catalog"))]

MODE_ZH = {"piece": "按件数", "weight": "按重量（克）"}
MONEY = ("first_fee_fen", "additional_fee_fen", "min_amount_fen")
WHOLE = ("first_units", "additional_units", "min_count")
LABELS = {
    "name": "模板名称",
    "mode": "计费方式",
    "first_units": "首件（首重）",
    "first_fee_fen": "首费",
    "additional_units": "续件（续重）",
    "additional_fee_fen": "续费",
    "min_amount_fen": "包邮金额",
    "min_count": "包邮件数",
    "regions": "地区",
}
# Provinces by area, as merchants pick them (GB/T 2260's first digits: 1 华北, 2 东北, 3 华东, …).
AREAS = (
    ("华北", ("11", "12", "13", "14", "15")),
    ("东北", ("21", "22", "23")),
    ("华东", ("31", "32", "33", "34", "35", "36", "37")),
    ("华中", ("41", "42", "43")),
    ("华南", ("44", "45", "46")),
    ("西南", ("50", "51", "52", "53", "54")),
    ("西北", ("61", "62", "63", "64", "65")),
    ("港澳台", ("71", "81", "82")),
)
EXTRA_RULE_ROWS, EXTRA_FREE_ROWS = 2, 1


def _areas() -> list[tuple[str, list[Any]]]:
    by_prefix = {p.code[:2]: p for p in regions.provinces()}
    return [(area, [by_prefix[x] for x in prefixes if x in by_prefix]) for area, prefixes in AREAS]


def _y(fen: Any) -> str:
    return "" if fen is None else yuan(int(fen)).removesuffix(".00")


def _charge_values(d: dict[str, Any]) -> dict[str, Any]:
    return {
        "first_units": d.get("first_units", 1),
        "first_fee": _y(d.get("first_fee_fen", 0)),
        "additional_units": d.get("additional_units", 1),
        "additional_fee": _y(d.get("additional_fee_fen", 0)),
        "regions": list(d.get("regions") or ()),
    }


def _values(t: Any | None) -> dict[str, Any]:
    """The form's values for a template (None: a new one), with blank rows to add rules and conditions."""
    blank_rule = {"first_units": "", "first_fee": "", "additional_units": "", "additional_fee": "", "regions": []}
    blank_free = {"min_amount": "", "min_count": "", "regions": []}
    if t is None:
        default = {"first_units": 1, "first_fee": "", "additional_units": 1, "additional_fee": "", "regions": []}
        v: dict[str, Any] = {"name": "", "mode": "piece", "is_default": False, "default": default}
        v |= {"rules": [], "free": [], "not_delivered": []}
    else:
        d = t.model_dump()  # a TemplateAdmin
        v = {"name": d["name"], "mode": d["mode"], "is_default": d["is_default"]}
        v["default"] = _charge_values(d["default_rule"])
        v["rules"] = [_charge_values(r) for r in d["rules"]]
        v["free"] = [
            {"min_amount": _y(f["min_amount_fen"]), "min_count": f["min_count"] or "", "regions": f["regions"]}
            for f in d["free"]
        ]
        v["not_delivered"] = list(d["not_delivered"])
    v["rules"] = v["rules"] + [dict(blank_rule) for _ in range(EXTRA_RULE_ROWS)]
    v["free"] = v["free"] + [dict(blank_free) for _ in range(EXTRA_FREE_ROWS)]
    return v


def _read_form(form: FormData) -> tuple[dict[str, Any], dict[str, Any], list[int], list[int]]:
    """The typed form as the schema's body, the values to show it again, and which form row each rule and
    free-shipping condition of the body came from (so a refusal lands beside its row)."""

    def charge(prefix: str) -> dict[str, str]:
        return {
            "first_units": form_text(form, f"{prefix}first_units"),
            "first_fee_fen": form_text(form, f"{prefix}first_fee"),
            "additional_units": form_text(form, f"{prefix}additional_units"),
            "additional_fee_fen": form_text(form, f"{prefix}additional_fee"),
        }

    def shown(c: dict[str, str], codes: list[str]) -> dict[str, Any]:
        return {
            "first_units": c["first_units"],
            "first_fee": c["first_fee_fen"],
            "additional_units": c["additional_units"],
            "additional_fee": c["additional_fee_fen"],
            "regions": codes,
        }

    body: dict[str, Any] = {"name": form_text(form, "name", 200), "mode": form_text(form, "mode") or "piece"}
    if form.get("is_default") == "on":
        body["is_default"] = True
    body["default_rule"] = charge("d_")
    v: dict[str, Any] = {**body, "is_default": "is_default" in body, "default": shown(body["default_rule"], [])}
    body["rules"], v["rules"], rule_rows = [], [], []
    n_rules = min(int(form_text(form, "rule_rows") or 0) if form_text(form, "rule_rows").isdigit() else 0, 60)
    for i in range(n_rules):
        c, codes = charge(f"r{i}_"), form_list(form, f"r{i}_regions")
        v["rules"].append(shown(c, codes))
        if codes or any(c.values()):
            body["rules"].append({**c, "regions": codes})
            rule_rows.append(i)
    body["free"], v["free"], free_rows = [], [], []
    n_free = min(int(form_text(form, "free_rows") or 0) if form_text(form, "free_rows").isdigit() else 0, 30)
    for i in range(n_free):
        f = {"min_amount_fen": form_text(form, f"f{i}_min_amount"), "min_count": form_text(form, f"f{i}_min_count")}
        codes = form_list(form, f"f{i}_regions")
        v["free"].append({"min_amount": f["min_amount_fen"], "min_count": f["min_count"], "regions": codes})
        if codes or any(f.values()):
            body["free"].append({**f, "regions": codes})
            free_rows.append(i)
    body["not_delivered"] = v["not_delivered"] = form_list(form, "not_delivered")
    return body, v, rule_rows, free_rows


def _place(path: str, rule_rows: Sequence[int], free_rows: Sequence[int]) -> str:
    """Where a refusal at the schema's `path` shows on the form: "name", "default", "rule3", "free0", …"""
    parts = path.split(".")
    if parts[0] in ("default", "default_rule"):
        return "default"
    if parts[0] in ("rules", "free") and len(parts) > 1 and parts[1].isdigit():
        rows = rule_rows if parts[0] == "rules" else free_rows
        i = int(parts[1])
        return f"{'rule' if parts[0] == 'rules' else 'free'}{rows[i] if i < len(rows) else 0}"
    return parts[0] if parts[0] in ("name", "mode", "not_delivered") else "form"


def _errors(exc: FormInvalid | AppError, rule_rows: Sequence[int], free_rows: Sequence[int]) -> dict[str, str]:
    out: dict[str, str] = {}
    if isinstance(exc, FormInvalid):
        for path, message in exc.errors.items():
            out.setdefault(_place(path, rule_rows, free_rows), message)
        return out
    found = exc.detail.get("problems") or [{"field": exc.detail.get("field", "form"), "code": exc.code}]
    for p in found:
        text = error_text(AppError(p["code"]))
        out.setdefault(_place(p["field"], rule_rows, free_rows), text)
    return out


def _page(
    ctx: Console, t: Any | None, v: dict[str, Any], *, errors: dict[str, str] | None = None, **kw: Any
) -> Response:
    return render(
        ctx,
        "shipping/form.html",
        status_code=422 if errors else 200,
        active="shipping",
        t=t,
        v=v,
        errors=errors or {},
        areas=_areas(),
        MODE_ZH=MODE_ZH,
        readonly=not ctx.can("catalog"),
        **kw,
    )


async def _list(ctx: Console, *, notice: str = "", error: str = "") -> Response:
    async with ctx.db.read() as s:
        rows = [await service.to_admin(s, t=t) for t in await service.list_templates(s)]
    return render(
        ctx,
        "shipping/list.html",
        status_code=409 if error else 200,
        active="shipping",
        rows=rows,
        MODE_ZH=MODE_ZH,
        notice=notice,
        error=error,
    )


@router.get("", response_class=HTMLResponse)
async def list_page(ctx: Read, ok: str = "") -> Response:
    return await _list(ctx, notice={"deleted": "模板已删除", "default": "已设为默认模板"}.get(ok, ""))


@router.get("/new", response_class=HTMLResponse)
async def new_page(ctx: Write) -> Response:
    return _page(ctx, None, _values(None))


@router.post("/new", response_class=HTMLResponse)
async def create(ctx: Write) -> Response:
    body, v, rule_rows, free_rows = _read_form(await ctx.request.form())
    try:
        data = form_to(TemplateCreate, body, money=MONEY, whole=WHOLE, labels=LABELS)
        async with ctx.db.tx() as s:
            t = await service.create_template(s, data=data)
    except (FormInvalid, AppError) as exc:
        return _page(ctx, None, v, errors=_errors(exc, rule_rows, free_rows))
    return RedirectResponse(f"/admin/shipping/{t.id}?ok=created", status_code=303)


@router.get("/{template_id}", response_class=HTMLResponse)
async def detail(template_id: int, ctx: Read, ok: str = "") -> Response:
    async with ctx.db.read() as s:
        try:
            t = await service.to_admin(s, t=await service.get_template(s, template_id=template_id))
        except AppError:
            return render(
                ctx, "message.html", status_code=404, title="找不到页面", message="运费模板不存在", level="error"
            )
    notice = {"created": "运费模板已创建", "saved": "修改已保存"}.get(ok, "")
    return _page(ctx, t, _values(t), notice=notice)


@router.post("/{template_id}", response_class=HTMLResponse)
async def save(template_id: int, ctx: Write) -> Response:
    body, v, rule_rows, free_rows = _read_form(await ctx.request.form())
    async with ctx.db.read() as s:
        try:
            t = await service.to_admin(s, t=await service.get_template(s, template_id=template_id))
        except AppError:
            return render(
                ctx, "message.html", status_code=404, title="找不到页面", message="运费模板不存在", level="error"
            )
    try:
        data = form_to(TemplateUpdate, body, money=MONEY, whole=WHOLE, labels=LABELS)
        async with ctx.db.tx() as s:
            await service.update_template(s, template_id=template_id, data=data)
    except (FormInvalid, AppError) as exc:
        return _page(
            ctx, t, {**v, "is_default": t.is_default or v["is_default"]}, errors=_errors(exc, rule_rows, free_rows)
        )
    return RedirectResponse(f"/admin/shipping/{template_id}?ok=saved", status_code=303)


@router.post("/{template_id}/default", response_class=HTMLResponse)
async def make_default(template_id: int, ctx: Write) -> Response:
    try:
        async with ctx.db.tx() as s:
            await service.update_template(s, template_id=template_id, data=TemplateUpdate(is_default=True))
    except AppError as exc:
        return await _list(ctx, error=error_text(exc))
    return RedirectResponse("/admin/shipping?ok=default", status_code=303)


@router.post("/{template_id}/delete", response_class=HTMLResponse)
async def delete(template_id: int, ctx: Write) -> Response:
    try:
        async with ctx.db.tx() as s:
            await service.delete_template(s, template_id=template_id)
    except AppError as exc:
        return await _list(ctx, error=error_text(exc))
    return RedirectResponse("/admin/shipping?ok=deleted", status_code=303)
