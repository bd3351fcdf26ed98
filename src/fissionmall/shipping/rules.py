"""运费模板 as pure decisions: which rule prices an address, what a cart's shipping costs, and why.

No I/O here: the service builds `Template`s from its rows, checkout builds a `Book` (the templates, which
template and weight each SKU ships with, where the order goes), and the price chain's shipping step calls
`charge` with the lines as priced before the coupon.

How a cart is charged (有赞's rule): the lines are grouped by template (a product without one ships with
the shop's default template); each group is priced on its own, by the rule of the address's province or
city (the template's default rule otherwise), counting its pieces or its grams together, so a group pays
its first fee once; a group that meets one of its free-shipping conditions pays nothing; the order pays
the sum of the groups. Gift lines ship with the goods and are not counted.

Region codes are GB/T 2260's six digits: a province is `PP0000`, a city `PPCC00`, so "does this rule
cover the address" is a prefix comparison and needs no table.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from fissionmall.core.money import split, yuan
from fissionmall.shipping.errors import ShippingError

PIECE, WEIGHT = "piece", "weight"


@dataclass(frozen=True)
class Charge:
    """首件/首重 and 续件/续重: `first_units` pieces (or grams) for `first_fee_fen`, then each started
    `additional_units` for `additional_fee_fen`. A rule with no regions is the template's default rule."""

    first_units: int = 1
    first_fee_fen: int = 0
    additional_units: int = 1
    additional_fee_fen: int = 0
    regions: tuple[str, ...] = ()


@dataclass(frozen=True)
class FreeRule:
    """包邮条件: the group ships free from `min_amount_fen` of goods or from `min_count` pieces (either
    met is enough), in `regions` only, or everywhere when `regions` is empty."""

    min_amount_fen: int | None = None
    min_count: int | None = None
    regions: tuple[str, ...] = ()


@dataclass(frozen=True)
class Template:
    id: int
    name: str
    mode: str = PIECE  # piece | weight (grams)
    default: Charge = Charge()
    rules: tuple[Charge, ...] = ()
    free: tuple[FreeRule, ...] = ()
    not_delivered: tuple[str, ...] = ()
    is_default: bool = False


@dataclass(frozen=True)
class Book:
    """What the shipping step needs: the shop's templates, each SKU's template and unit weight, and the
    destination (a region code; None: not known, the default rule prices and `note` says so)."""

    templates: Mapping[int, Template]
    default_id: int | None
    sku_template: Mapping[int, int | None] = field(default_factory=dict)
    sku_weight_g: Mapping[int, int] = field(default_factory=dict)
    destination: str | None = None
    note: str = ""  # "按默认地址计" / "未选地址，按默认运费计": appended to the step's label


@dataclass(frozen=True)
class Item:
    """One cart line as shipping sees it: `amount_fen` is what its goods cost before the coupon."""

    sku_id: int
    title: str
    qty: int
    amount_fen: int


@dataclass(frozen=True)
class Group:
    template: Template
    units: int  # pieces or grams
    pieces: int
    amount_fen: int
    fee_fen: int
    detail: str  # "首件¥8 + 续件¥4", "包邮（满¥99）"
    items: tuple[int, ...]  # indexes into the items charged


@dataclass(frozen=True)
class Result:
    fee_fen: int
    label: str
    groups: tuple[Group, ...]
    shares: tuple[int, ...]  # each item's part of the fee (groups split by amount, largest remainder)


# ---- regions --------------------------------------------------------------------------------------


def covers(code: str, destination: str) -> bool:
    """Whether a rule's region (a province `PP0000`, a city `PPCC00` or a county) covers the address."""
    if code.endswith("0000"):
        return destination[:2] == code[:2]
    if code.endswith("00"):
        return destination[:4] == code[:4]
    return destination == code


def _overlap(a: str, b: str) -> bool:
    return covers(a, b) or covers(b, a)


def charge_for(t: Template, destination: str | None) -> Charge:
    """The rule that prices `destination` (the most specific region listed), else the default rule."""
    if destination is None:
        return t.default
    best: tuple[int, Charge] | None = None
    for rule in t.rules:
        for code in rule.regions:
            if covers(code, destination):
                depth = 0 if code.endswith("0000") else 1 if code.endswith("00") else 2
                if best is None or depth > best[0]:
                    best = (depth, rule)
    return best[1] if best else t.default


def delivers(t: Template, destination: str | None) -> bool:
    return destination is None or not any(covers(c, destination) for c in t.not_delivered)


# ---- validation -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    code: ShippingError
    field: str  # where the console shows it ("rules.1.regions")


def problems(t: Template, known: Iterable[str]) -> list[Problem]:
    """What is wrong with a template, first problem of each place (empty: valid). `known` are the region
    codes that exist."""
    known_set = set(known)
    out: list[Problem] = []
    charges = [("default", t.default)] + [(f"rules.{i}", r) for i, r in enumerate(t.rules)]
    for where, c in charges:
        if min(c.first_fee_fen, c.additional_fee_fen) < 0:
            out.append(Problem(ShippingError.SHIPPING_FEE_NEGATIVE, where))
        elif c.first_units <= 0 or c.additional_units <= 0:
            out.append(Problem(ShippingError.SHIPPING_UNIT_ZERO, where))
    seen: list[tuple[str, str]] = []
    places = [(f"rules.{i}.regions", r.regions) for i, r in enumerate(t.rules)]
    places += [("not_delivered", t.not_delivered)]
    places += [(f"free.{i}.regions", f.regions) for i, f in enumerate(t.free)]
    for where, codes in places:
        unknown = [c for c in codes if c not in known_set]
        if unknown:
            out.append(Problem(ShippingError.SHIPPING_REGION_UNKNOWN, where))
            continue
        if where.startswith("free."):
            continue  # a free-shipping condition may name regions that rules also price
        mine: list[str] = []
        for code in codes:
            if any(_overlap(code, other) for other in mine) or any(_overlap(code, c) for _, c in seen):
                out.append(Problem(ShippingError.SHIPPING_REGION_OVERLAP, where))
                break
            mine.append(code)
        seen.extend((where, c) for c in codes)
    for i, f in enumerate(t.free):
        if f.min_amount_fen is None and f.min_count is None:
            out.append(Problem(ShippingError.SHIPPING_FREE_CONDITION_EMPTY, f"free.{i}"))
        elif (f.min_amount_fen or 0) < 0 or (f.min_count or 0) < 0:
            out.append(Problem(ShippingError.SHIPPING_FEE_NEGATIVE, f"free.{i}"))
    return out


# ---- the computation ------------------------------------------------------------------------------


def short_yuan(fen: int) -> str:
    s = yuan(fen)
    return s.rstrip("0").rstrip(".") if "." in s else s


def _free_reason(t: Template, destination: str | None, amount: int, pieces: int) -> str | None:
    for f in t.free:
        if f.regions and (destination is None or not any(covers(c, destination) for c in f.regions)):
            continue
        if f.min_amount_fen is not None and amount >= f.min_amount_fen:
            return f"满¥{short_yuan(f.min_amount_fen)}" if f.min_amount_fen else ""
        if f.min_count is not None and pieces >= f.min_count:
            return f"满{f.min_count}件" if f.min_count > 1 else ""
    return None


def _units_text(t: Template, n: int) -> str:
    if t.mode == WEIGHT:
        return f"{n // 1000}kg" if n % 1000 == 0 else f"{n}g"
    return "" if n == 1 else f"{n}"


def fee_of(t: Template, destination: str | None, units: int) -> tuple[int, str]:
    """A group's fee before free shipping, and how it is made up ("首件¥8 + 续件¥4")."""
    c = charge_for(t, destination)
    steps = -(-max(0, units - c.first_units) // c.additional_units)
    extra = steps * c.additional_fee_fen
    fee = c.first_fee_fen + extra
    if fee == 0:
        return 0, "包邮"
    first, more = ("首重", "续重") if t.mode == WEIGHT else ("首件", "续件")
    text = f"{first}{_units_text(t, c.first_units)}¥{short_yuan(c.first_fee_fen)}"
    if extra:
        text += f" + {more}¥{short_yuan(extra)}"
    return fee, text


def groups(book: Book, items: Sequence[Item]) -> dict[int, list[int]]:
    """Item indexes by the template that ships them (None → the shop's default template)."""
    out: dict[int, list[int]] = {}
    for i, it in enumerate(items):
        if it.qty <= 0:
            continue  # a gift line: it ships with the goods
        tid = book.sku_template.get(it.sku_id)
        if tid is None or tid not in book.templates:
            tid = book.default_id
        if tid is not None:
            out.setdefault(tid, []).append(i)
    return out


def items_of(lines: Sequence[Any]) -> list[Item]:
    """The price chain's lines (`PricedLine`s) as shipping sees them: gift lines ship with the goods
    (qty 0: not counted), and the amount is the goods' after promotions, before the coupon and points."""
    return [
        Item(
            p.line.sku_id,
            p.line.title,
            0 if p.line.gift_of is not None else p.line.qty,
            p.subtotal_fen - p.discount_fen + p.coupon_fen + p.points_fen,
        )
        for p in lines
    ]


def undeliverable(book: Book, items: Sequence[Item]) -> list[str]:
    """The titles of the items whose template does not deliver to the destination."""
    titles: list[str] = []
    for tid, idx in groups(book, items).items():
        if not delivers(book.templates[tid], book.destination):
            titles.extend(items[i].title for i in idx if items[i].title not in titles)
    return titles


def charge(book: Book, items: Sequence[Item]) -> Result:
    """The shipping of a cart: each template's group priced on its own, the fees summed."""
    out: list[Group] = []
    shares = [0] * len(items)
    for tid, idx in sorted(groups(book, items).items()):
        t = book.templates[tid]
        pieces = sum(items[i].qty for i in idx)
        grams = sum(max(0, book.sku_weight_g.get(items[i].sku_id, 0)) * items[i].qty for i in idx)
        units = grams if t.mode == WEIGHT else pieces
        amount = sum(items[i].amount_fen for i in idx)
        reason = _free_reason(t, book.destination, amount, pieces)
        if reason is not None:
            fee, detail = 0, f"包邮（{reason}）" if reason else "包邮"
        else:
            fee, detail = fee_of(t, book.destination, units)
        for i, sh in zip(idx, split(fee, [max(0, items[i].amount_fen) for i in idx]), strict=True):
            shares[i] += sh
        out.append(Group(t, units, pieces, amount, fee, detail, tuple(idx)))
    total = sum(g.fee_fen for g in out)
    return Result(total, label(total, out, book.note), tuple(out), tuple(shares))


def label(total: int, gs: Sequence[Group], note: str = "") -> str:
    """The step's label: "运费 ¥12（首件¥8 + 续件¥4）", "包邮（满¥99）", or per template when mixed."""
    if len(gs) == 1:
        detail = gs[0].detail
    else:
        detail = "；".join(f"{g.template.name}：{g.detail}" for g in gs)
    if total == 0 and len(gs) == 1:
        text = detail
    else:
        text = f"运费 ¥{short_yuan(total)}（{detail}）"
    return f"{text}，{note}" if note else text


def free_everywhere(t: Template) -> bool:
    """Whether the template charges nothing wherever it delivers, whatever the cart: the 包邮 label."""
    charges = (t.default, *t.rules)
    if all(c.first_fee_fen == 0 and c.additional_fee_fen == 0 for c in charges):
        return True
    return any(
        not f.regions and ((f.min_amount_fen == 0) or (f.min_count is not None and f.min_count <= 1)) for f in t.free
    )


def province_code(region_code: str | None, region: str | None, provinces: Mapping[str, str]) -> str | None:
    """The address's region code (finest known): its `region_code`, else the province its region text
    starts with (`provinces`: full name → code, e.g. "广东省" → "440000"; "广东" matches too)."""
    if region_code and len(region_code) == 6 and region_code.isdigit():
        return region_code
    text = (region or "").strip()
    if not text:
        return None
    for name, code in provinces.items():
        short = name
        for suffix in ("维吾尔自治区", "壮族自治区", "回族自治区", "特别行政区", "自治区", "省", "市"):
            if short.endswith(suffix) and len(short) > len(suffix):
                short = short[: -len(suffix)]
                break
        if text.startswith(name) or text.startswith(short):
            return code
    return None
