"""The distribution settings form, as the console shows and reads it: rates in %, amounts in 元, overrides as
rows, every refusal beside its field; stored as ConfigUpdate (basis points and fen). The HTML side (reading the
posted form, rendering) is in admin.py; this module knows no web."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any

from pydantic import BaseModel, Field

from fissionmall.core.money import apply_bp, yuan, yuan_text
from fissionmall.core.schemas import MAX_BIGINT, Bp, Fen
from fissionmall.distribution.errors import DistributionError
from fissionmall.distribution.rules import MAX_CAP_BP, MAX_LEVELS
from fissionmall.distribution.schemas import ConfigUpdate, Days, SourceRate

BIND_MODE_ZH = {"first": "首次绑定有效", "registration_only": "仅注册时绑定", "latest": "以最新链接为准"}
APPROVAL_ZH = {"auto": "自动通过", "manual": "人工审核", "everyone": "人人分销"}
SOURCES_ZH = {"groupbuy": "拼团订单", "seckill": "秒杀订单", "bargain": "砍价订单"}
SOURCE_MODE_ZH = {"shop": "按店铺佣金比例", "own": "单独设置比例", "none": "不返佣"}
UNIT_ZH = {"rate": "%", "fixed": "元/件"}
SAMPLE_FEN = 19900  # the preview's sample price until the operator types another
# One row per plain field: the form's input, the stored key, how it is typed, its name for the operator.
FIELDS = (
    ("levels", "levels", "whole", "分销层级"),
    ("level1_rate", "level1_rate_bp", "rate", "一级佣金比例"),
    ("level2_rate", "level2_rate_bp", "rate", "二级佣金比例"),
    ("cap_rate", "cap_bp", "rate", "单笔订单佣金上限"),
    ("frozen_days", "frozen_days", "whole", "冻结天数"),
    ("binding_expiry_days", "binding_expiry_days", "whole", "绑定有效期"),
    ("min_withdraw", "min_withdraw_fen", "money", "最低提现金额"),
    ("withdraw_fee_rate", "withdraw_fee_bp", "rate", "提现手续费"),
)
TARGETS = {"product": ("ov_p", "product_id"), "sku": ("ov_s", "sku_id")}  # override table → input prefix, key
ROW_LABELS = {
    "level1_rate_bp": "一级佣金比例",
    "level2_rate_bp": "二级佣金比例",
    "level1_fixed_fen": "一级固定佣金",
    "level2_fixed_fen": "二级固定佣金",
}


class _Rates(BaseModel):
    """A row's typed rates: what `form_to` reads (% → bp, 元 → fen); the cross checks come after."""

    level1_rate_bp: Bp | None = None
    level2_rate_bp: Bp | None = None
    level1_fixed_fen: Fen | None = None
    level2_fixed_fen: Fen | None = None


class Typed(BaseModel):
    """The form's numbers as typed, each refused beside its own field (none of ConfigUpdate's cross checks,
    which stop at the first refusal: the console checks those itself, so every mistake shows at once)."""

    levels: Annotated[int, Field(ge=1, le=10)] | None = None
    level1_rate_bp: Bp | None = None
    level2_rate_bp: Bp | None = None
    cap_bp: Bp | None = None
    frozen_days: Days | None = None
    binding_expiry_days: Days | None = None
    min_withdraw_fen: Fen | None = None
    withdraw_fee_bp: Bp | None = None
    sources: dict[str, _Rates] = {}
    product: list[_Rates] = []
    sku: list[_Rates] = []


def pct(bp: int | None) -> str:
    """1050 bp → '10.5', 1000 → '10' (what a % field shows; the form reads it back exactly)."""
    if bp is None:
        return ""
    whole, part = divmod(bp, 100)
    return f"{whole}.{part:02d}".rstrip("0") if part else str(whole)


def price_text(fen: int) -> str:
    """¥199 for a whole amount, ¥19.90 otherwise (the preview's sample price, as an operator types it)."""
    return "¥" + yuan_text(fen)


def preview(*, level1_bp: int, level2_bp: int, levels: int, price_fen: int = SAMPLE_FEN) -> str:
    """What one item at `price_fen` earns per level, as the settings page says it (the script says the same)."""
    text = f"一件 {price_text(price_fen)} 的商品：一级佣金 ¥{yuan(apply_bp(price_fen, level1_bp))}"
    return text + (f"，二级 ¥{yuan(apply_bp(price_fen, level2_bp))}" if levels >= 2 else "")


@dataclass
class SettingsForm:
    """The settings page's fields as text (typed, or shown from what is saved), with their refusals."""

    values: dict[str, Any]
    sources: list[dict[str, Any]]
    rows: dict[str, list[dict[str, Any]]]  # "product" | "sku" → override rows
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def has_errors(self) -> bool:
        return (
            bool(self.errors)
            or any(r["errors"] for r in self.sources)
            or any(r["errors"] for rows in self.rows.values() for r in rows)
        )

    def error_count(self) -> int:
        rows = [r for rows in self.rows.values() for r in rows]
        return len(self.errors) + sum(len(r["errors"]) for r in (*self.sources, *rows))


def _level_text(o: Mapping[str, Any], level: int) -> tuple[str, str]:
    fixed = o.get(f"level{level}_fixed_fen")
    if fixed is not None:
        return yuan(fixed), "fixed"
    return pct(o.get(f"level{level}_rate_bp")), "rate"


def from_saved(cfg: ConfigUpdate) -> SettingsForm:
    """The form showing what is saved: bp as %, fen as 元, each override a row of its table."""
    values: dict[str, Any] = {
        "enabled": cfg.enabled,
        "self_purchase_commission": cfg.self_purchase_commission,
        "bind_mode": cfg.bind_mode,
        "approval": cfg.approval,
        "levels": str(cfg.levels),
        "level1_rate": pct(cfg.level1_rate_bp),
        "level2_rate": pct(cfg.level2_rate_bp),
        "cap_rate": pct(cfg.cap_bp),
        "frozen_days": str(cfg.frozen_days),
        "binding_expiry_days": str(cfg.binding_expiry_days),
        "min_withdraw": yuan(cfg.min_withdraw_fen),
        "withdraw_fee_rate": pct(cfg.withdraw_fee_bp),
    }
    sources = []
    saved: dict[str, SourceRate | None] = {str(k): v for k, v in cfg.source_rates.items()}
    for key, label in SOURCES_ZH.items():
        sr = saved.get(key)
        mode = "shop" if key not in saved else ("none" if sr is None else "own")
        sources.append(
            {
                "key": key,
                "label": label,
                "mode": mode,
                "level1": pct(sr.level1_rate_bp) if sr else "",
                "level2": pct(sr.level2_rate_bp) if sr else "",
                "errors": {},
            }
        )
    rows: dict[str, list[dict[str, Any]]] = {"product": [], "sku": []}
    for o in cfg.overrides:
        kind = "sku" if o.sku_id is not None else "product"
        d = o.model_dump()
        (l1, u1), (l2, u2) = _level_text(d, 1), _level_text(d, 2)
        rows[kind].append(
            {"id": str(d[TARGETS[kind][1]]), "l1": l1, "l1_unit": u1, "l2": l2, "l2_unit": u2, "errors": {}}
        )
    return SettingsForm(values=values, sources=sources, rows=rows)


def _row_body(row: Mapping[str, Any]) -> dict[str, str]:
    body = {}
    for lvl in (1, 2):
        unit = "fixed_fen" if row[f"l{lvl}_unit"] == "fixed" else "rate_bp"
        body[f"level{lvl}_{unit}"] = row[f"l{lvl}"]
    return body


def typed_body(f: SettingsForm) -> dict[str, Any]:
    """The typed numbers by their stored names (rates still as % text, amounts as 元), for `form_to` to read."""
    body: dict[str, Any] = {key: f.values[name] for name, key, _, _ in FIELDS}
    body["sources"] = {
        s["key"]: {"level1_rate_bp": s["level1"], "level2_rate_bp": s["level2"]}
        for s in f.sources
        if s["mode"] == "own"
    }
    for kind in TARGETS:
        body[kind] = [_row_body(r) for r in f.rows[kind]]
    return body


def place(f: SettingsForm, errors: Mapping[str, str]) -> None:
    """Put each refusal beside its field: a plain field by its input's name, a row's by its column."""
    names = {key: name for name, key, _, _ in FIELDS}
    for path, msg in errors.items():
        parts = path.split(".")
        if parts[0] in names:
            f.errors.setdefault(names[parts[0]], msg)
        elif parts[0] == "sources" and len(parts) == 3:
            src = next(s for s in f.sources if s["key"] == parts[1])
            src["errors"].setdefault("l1" if parts[2].startswith("level1") else "l2", msg)
        elif parts[0] in TARGETS and len(parts) == 3 and parts[1].isdigit():
            row = f.rows[parts[0]][int(parts[1])]
            row["errors"].setdefault("l1" if parts[2].startswith("level1") else "l2", msg)
        else:
            f.errors.setdefault("form", msg)


def _cap_text(l1: int, l2: int, levels: int, cap: int) -> str:
    what = "一级与二级佣金比例之和" if levels >= 2 else "一级佣金比例"
    return f"{what}（{pct(l1 + (l2 if levels >= 2 else 0))}%）不能超过单笔订单佣金上限（{pct(cap)}%）"


def check_targets(f: SettingsForm) -> None:
    """Each override row names one product or SKU, and no two rows the same one."""
    seen: set[tuple[str, str]] = set()
    for kind, rows in f.rows.items():
        for row in rows:
            what = "商品" if kind == "product" else "商品规格"
            if not (row["id"].isdigit() and 1 <= int(row["id"]) <= MAX_BIGINT):
                row["errors"]["target"] = f"请重新选择{what}"
            elif (kind, row["id"]) in seen:
                row["errors"]["target"] = f"该{what}已设置过单独佣金，请删除重复的一行"
            seen.add((kind, row["id"]))


def check(f: SettingsForm, typed: Typed) -> None:
    """The rules ConfigUpdate enforces one at a time, each beside the field it concerns, all at once."""
    if f.values["bind_mode"] not in BIND_MODE_ZH:
        f.errors["bind_mode"] = "请选择绑定方式"
    if f.values["approval"] not in APPROVAL_ZH:
        f.errors["approval"] = "请选择分销员审核方式"
    for name, key, _, label in FIELDS:
        if getattr(typed, key) is None and name not in f.errors:
            f.errors[name] = f"请填写{label}"
    levels = typed.levels or 2
    if levels > MAX_LEVELS and "levels" not in f.errors:
        f.errors["levels"] = DistributionError.LEVELS_NOT_ALLOWED.text
    cap = typed.cap_bp
    if cap is not None and cap > MAX_CAP_BP:
        f.errors.setdefault("cap_rate", DistributionError.CAP_TOO_HIGH.text)
        cap = None
    check_targets(f)
    if cap is None:
        return
    l1, l2 = typed.level1_rate_bp, typed.level2_rate_bp
    if l1 is not None and l2 is not None and l1 + (l2 if levels >= 2 else 0) > cap:
        f.errors.setdefault("level1_rate", _cap_text(l1, l2, levels, cap))
    for s in f.sources:
        r = typed.sources.get(s["key"])
        a, b = (r.level1_rate_bp or 0, r.level2_rate_bp or 0) if r else (0, 0)
        if a + (b if levels >= 2 else 0) > cap:
            s["errors"].setdefault("l1", _cap_text(a, b, levels, cap))
    for kind in TARGETS:
        for row, r in zip(f.rows[kind], getattr(typed, kind), strict=False):
            a, b = r.level1_rate_bp or 0, r.level2_rate_bp or 0
            if a + (b if levels >= 2 else 0) > cap:
                row["errors"].setdefault("l1", _cap_text(a, b, levels, cap))


def config_data(f: SettingsForm, typed: Typed) -> dict[str, Any]:
    """The ConfigUpdate body of a form that passed every check."""
    data: dict[str, Any] = {k: f.values[k] for k in ("enabled", "self_purchase_commission", "bind_mode", "approval")}
    data.update({key: getattr(typed, key) for _, key, _, _ in FIELDS})
    data["source_rates"] = {
        s["key"]: None
        if s["mode"] == "none"
        else {
            "level1_rate_bp": typed.sources[s["key"]].level1_rate_bp or 0,
            "level2_rate_bp": typed.sources[s["key"]].level2_rate_bp or 0,
        }
        for s in f.sources
        if s["mode"] != "shop"
    }
    overrides = []
    for kind, (_, key) in TARGETS.items():
        for row, r in zip(f.rows[kind], getattr(typed, kind), strict=True):
            overrides.append({key: int(row["id"]), **r.model_dump(exclude_none=True)})
    data["overrides"] = overrides
    return data


def blank(body: Any, path: list[str]) -> None:
    """Empty one refused value in the typed body (by its dotted path), so the rest can still be read."""
    for step in path[:-1]:
        body = body[int(step)] if isinstance(body, list) else body.get(step)
        if body is None:
            return
    if isinstance(body, dict) and path[-1] in body:
        body[path[-1]] = ""


def stub(kind: str, target: str) -> dict[str, Any]:
    """A row whose product or SKU is gone (deleted, retired): kept, named as such, so a save loses nothing."""
    label = "已删除的商品" if kind == "product" else "已停用的规格"
    return {"id": target, "title": label, "label": label, "price": "—", "price_fen": 0, "stock": 0, "thumb": None}
