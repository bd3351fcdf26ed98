"""Promotion decisions with no I/O: what makes a rule valid, its label, its pricing-chain form."""

from __future__ import annotations

import itertools
from dataclasses import replace
from typing import Any

from fissionmall.core.errors import AppError
from fissionmall.core.money import BP, yuan_text
from fissionmall.pricing.errors import PricingError
from fissionmall.pricing.rules import (
    CartLine,
    FreeShipping,
    FullGift,
    FullReduction,
    LimitedDiscount,
    PricingContext,
    ReductionTier,
    Scope,
    TieredPrice,
    activity_step,
    goods_step,
    member_step,
    price,
    short_yuan,
    tiered_step,
)
from fissionmall.promotions.errors import PromotionsError

KINDS = ("full_reduction", "gift", "free_shipping", "limited_discount", "tiered_price")


def _bad(code: str, message: str = "") -> AppError:
    """A rule check's refusal: the code's own Chinese text (an English note here is only for the reader)."""
    member = PromotionsError.__members__.get(code) or PricingError.__members__.get(code)
    return AppError(member if member is not None else code, status=422)


def check(p: dict[str, Any]) -> None:
    """Refuse a promotion that cannot work (overlapping tiers, a threshold below its discount, …)."""
    if p["ends_at"] <= p["starts_at"]:
        raise _bad("PROMOTION_WINDOW_INVALID", "ends_at must be after starts_at")
    if p.get("scope_kind", "all") != "all" and not p.get("scope_ids"):
        raise _bad("SCOPE_IDS_REQUIRED", "a products/categories scope needs scope_ids")
    kind = p["kind"]
    tiers = p.get("tiers") or []
    if kind == "full_reduction":
        if not tiers:
            raise _bad("TIERS_REQUIRED", "a full reduction needs at least one tier")
        seen: set[int] = set()
        for t in tiers:
            if bool(t.get("amount_fen")) == bool(t.get("percent_bp")):
                raise _bad("TIER_INVALID", "each tier takes amount_fen or percent_bp, one of them")
            if t.get("percent_bp") and t["percent_bp"] >= 10_000:
                raise _bad("TIER_INVALID", "percent_bp must be below 10000")
            if p.get("basis", "amount") == "amount" and t.get("amount_fen", 0) > t["threshold"]:
                raise _bad("THRESHOLD_BELOW_DISCOUNT", "a tier's threshold must be at least its discount")
            if t["threshold"] in seen:
                raise _bad("TIERS_OVERLAP", "two tiers have the same threshold")
            seen.add(t["threshold"])
        ordered = sorted(tiers, key=lambda t: t["threshold"])
        for lo, hi in itertools.pairwise(ordered):
            same_kind = bool(lo.get("amount_fen")) == bool(hi.get("amount_fen"))
            key = "amount_fen" if lo.get("amount_fen") else "percent_bp"
            if same_kind and hi.get(key, 0) <= lo.get(key, 0):
                raise _bad("TIERS_OVERLAP", "a higher tier must give more than the tier below it")
    elif kind == "tiered_price":
        if not p.get("sku_id") or not tiers:
            raise _bad("TIERS_REQUIRED", "a tiered price needs sku_id and price tiers")
        qtys = [t["min_qty"] for t in tiers]
        if len(set(qtys)) != len(qtys):
            raise _bad("TIERS_OVERLAP", "two tiers start at the same quantity")
        ordered = sorted(tiers, key=lambda t: t["min_qty"])
        for lo, hi in itertools.pairwise(ordered):
            if hi["unit_price_fen"] > lo["unit_price_fen"]:
                raise _bad("TIERS_OVERLAP", "buying more must never cost more per unit")
    elif kind == "limited_discount":
        items = p.get("items") or []
        if not items:
            raise _bad("ITEMS_REQUIRED", "a limited-time discount needs items")
        if len({i["sku_id"] for i in items}) != len(items):
            raise _bad("ITEMS_DUPLICATE", "a SKU appears twice")
        for i in items:
            if (i.get("price_fen") is None) == (i.get("percent_bp") is None):
                raise _bad("ITEM_INVALID", "each item takes price_fen or percent_bp, one of them")
            if i.get("percent_bp") is not None and not 0 < i["percent_bp"] < 10_000:
                raise _bad("ITEM_INVALID", "percent_bp must be between 1 and 9999")
    elif kind == "gift":
        if not p.get("gift_sku_id") or p.get("gift_stock") is None or p.get("threshold", 0) < 1:
            raise _bad("GIFT_INVALID", "a full gift needs gift_sku_id, gift_stock and a threshold ≥ 1")


def _scope(p: Any) -> Scope:
    return Scope(p.scope_kind, frozenset(int(i) for i in p.scope_ids or ()), bool(p.scope_exclude))


def _tier_label(t: dict[str, Any], basis: str) -> str:
    lead = f"满{t['threshold']}件" if basis == "count" else f"满{short_yuan(t['threshold'])}"
    if t.get("percent_bp"):
        rate = 10_000 - t["percent_bp"]
        return lead + (f"{short_yuan(rate // 10)}折" if rate % 10 == 0 else "打折")
    return lead + f"减{short_yuan(t['amount_fen'])}"


def label(p: Any) -> str:
    """The badge text of a promotion."""
    if p.kind == "full_reduction":
        return " / ".join(_tier_label(t, p.basis) for t in sorted(p.tiers, key=lambda t: t["threshold"]))
    if p.kind == "gift":
        lead = f"满{p.threshold}件" if p.basis == "count" else f"满{short_yuan(p.threshold)}元"
        return f"{lead}赠品"
    if p.kind == "free_shipping":
        return f"满{short_yuan(p.threshold)}元包邮" if p.threshold else "包邮"
    if p.kind == "tiered_price":
        return " / ".join(
            f"{t['min_qty']}件起每件{short_yuan(t['unit_price_fen'])}元"
            for t in sorted(p.tiers, key=lambda t: t["min_qty"])
        )
    return _limited_label(p.items or [])


def _limited_label(items: list[dict[str, Any]]) -> str:
    """限时 8折 / 限时 8折起 (the deepest cut of several) / 限时价 ¥69 起; mixed or odd rates: 限时折扣."""
    rates = [BP - i["percent_bp"] for i in items if i.get("percent_bp") is not None]
    prices = [i["price_fen"] for i in items if i.get("price_fen") is not None]
    if rates and not prices and all(r % 10 == 0 for r in rates):
        return f"限时 {short_yuan(min(rates) // 10)}折" + ("起" if len(set(rates)) > 1 else "")
    if prices and not rates:
        return f"限时价 ¥{yuan_text(min(prices))}" + (" 起" if len(set(prices)) > 1 else "")
    return "限时折扣"


def to_context_parts(promos: list[Any], gifts: dict[int, CartLine]) -> dict[str, tuple[Any, ...]]:
    """The pricing-chain rules of the live promotions (keyword arguments of PricingContext)."""
    tiered, limited, reductions, gift_rules, free = [], [], [], [], []
    for p in promos:
        if p.kind == "tiered_price" and p.sku_id:
            tiered.append(
                TieredPrice(p.id, p.sku_id, tuple((t["min_qty"], t["unit_price_fen"]) for t in p.tiers), "阶梯价")
            )
        elif p.kind == "limited_discount":
            for it in p.items:
                limited.append(
                    LimitedDiscount(p.id, it["sku_id"], it.get("price_fen"), it.get("percent_bp"), p.name or "限时折扣")
                )
        elif p.kind == "full_reduction":
            tiers = tuple(
                ReductionTier(t["threshold"], t.get("amount_fen", 0), t.get("percent_bp", 0)) for t in p.tiers
            )
            reductions.append(FullReduction(p.id, p.name, tiers, p.basis, _scope(p)))
        elif p.kind == "gift" and p.gift_sku_id in gifts:
            in_stock = p.gift_stock is None or p.gift_stock - p.gift_given >= p.gift_qty
            gift = replace(gifts[p.gift_sku_id], qty=p.gift_qty)
            gift_rules.append(FullGift(p.id, p.name, p.threshold, gift, p.basis, _scope(p), in_stock))
        elif p.kind == "free_shipping":
            free.append(FreeShipping(p.id, p.name, p.threshold, _scope(p)))
    return {
        "tiered": tuple(tiered),
        "limited": tuple(limited),
        "reductions": tuple(reductions),
        "gifts": tuple(gift_rules),
        "free_shipping_rules": tuple(free),
    }


# The part of checkout's chain a product page can know before the cart: no member price (the page does not
# know the shopper), no threshold, no coupon.
_UNIT_CHAIN = (goods_step, activity_step, tiered_step, member_step)


def limited_prices(
    promos: list[Any], product_id: int, category_id: int | None, skus: list[tuple[int, str, int]]
) -> dict[int, tuple[int, Any]]:
    """The product page's 限时折扣 per SKU ((id, name, price_fen) each): {sku_id: (what checkout charges
    for one unit, when the discount ends)}, priced by the chain's own steps with the live rules."""
    parts = to_context_parts([p for p in promos if p.kind in ("limited_discount", "tiered_price")], {})
    ctx = PricingContext(shipping_fee_fen=0, tiered=parts["tiered"], limited=parts["limited"])
    ends = {f"promotion:{p.id}": p.ends_at for p in promos}
    out: dict[int, tuple[int, Any]] = {}
    for sku_id, name, fen in skus:
        q = price([CartLine(sku_id, product_id, category_id, "", name, fen, 1)], ctx, _UNIT_CHAIN)
        ref = next((st.ref for st in q.steps if st.kind == "limited"), None)
        if ref is not None:
            out[sku_id] = (q.lines[0].goods_payable_fen, ends[ref])
    return out


def covers_product(p: Any, product_id: int, category_id: int | None, sku_ids: set[int]) -> bool:
    """Whether a promotion shows on a product page."""
    if p.kind == "tiered_price":
        return p.sku_id in sku_ids
    if p.kind == "limited_discount":
        return any(it["sku_id"] in sku_ids for it in p.items)
    line = CartLine(0, product_id, category_id, "", "", 0, 1)
    return _scope(p).covers(line)
