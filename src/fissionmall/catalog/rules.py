"""The catalogue's pure decisions: the spec matrix (颜色 × 尺码 → SKUs), list prices, merchant codes, and what
of a rich-text detail (图文详情) survives sanitising.

Every refusal names the field it belongs to (`field="skus.1.spec"`), so the console can show it beside the
cell that caused it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import nh3

from fissionmall.catalog.errors import CatalogError
from fissionmall.core.errors import AppError
from fissionmall.core.media import is_media_url

MAX_DIMENSIONS = 3
NAME_JOIN = " / "


@dataclass(frozen=True)
class SkuFacts:
    """What the rules need of one SKU as it will be saved."""

    name: str | None
    price_fen: int
    list_price_fen: int | None
    code: str | None
    spec: Mapping[str, str]


def _refuse(code: CatalogError, field: str) -> AppError:
    return AppError(code, field=field)


def check_specs(specs: Sequence[Mapping[str, Any]]) -> None:
    """The dimensions themselves: at most 3, names and values each unique."""
    if len(specs) > MAX_DIMENSIONS:
        raise _refuse(CatalogError.SPEC_TOO_MANY_DIMENSIONS, "specs")
    names = [d["name"] for d in specs]
    for i, name in enumerate(names):
        if name in names[:i]:
            raise _refuse(CatalogError.SPEC_DUPLICATE_DIMENSION, f"specs.{i}.name")
        values = list(specs[i]["values"])
        if len(set(values)) != len(values):
            raise _refuse(CatalogError.SPEC_DUPLICATE_VALUE, f"specs.{i}.values")


def sku_names(specs: Sequence[Mapping[str, Any]], skus: Sequence[SkuFacts]) -> list[str]:
    """Check the SKUs against the product's specs and each other; the name each is saved under (typed, or
    derived from the spec: "红 / M")."""
    check_specs(specs)
    dims = [d["name"] for d in specs]
    allowed = {d["name"]: set(d["values"]) for d in specs}
    seen_combos: set[tuple[str, ...]] = set()
    seen_codes: set[str] = set()
    names: list[str] = []
    for i, k in enumerate(skus):
        here = f"skus.{i}"
        if k.list_price_fen is not None and k.list_price_fen < k.price_fen:
            raise _refuse(CatalogError.LIST_PRICE_BELOW_PRICE, f"{here}.list_price_fen")
        if k.code:
            if k.code in seen_codes:
                raise _refuse(CatalogError.SKU_CODE_DUPLICATE, f"{here}.code")
            seen_codes.add(k.code)
        for dim, value in k.spec.items():
            if dim not in allowed:
                raise _refuse(CatalogError.SPEC_UNKNOWN_DIMENSION, f"{here}.spec")
            if value not in allowed[dim]:
                raise _refuse(CatalogError.SPEC_UNKNOWN_VALUE, f"{here}.spec")
        if dims:
            if any(dim not in k.spec for dim in dims):
                raise _refuse(CatalogError.SPEC_MISSING_DIMENSION, f"{here}.spec")
            combo = tuple(k.spec[dim] for dim in dims)
            if combo in seen_combos:
                raise _refuse(CatalogError.SPEC_DUPLICATE_COMBINATION, f"{here}.spec")
            seen_combos.add(combo)
            names.append(k.name or NAME_JOIN.join(combo))
        elif k.name:
            names.append(k.name)
        else:
            raise _refuse(CatalogError.SKU_NAME_REQUIRED, f"{here}.name")
    return names


def ordered_spec(specs: Sequence[Mapping[str, Any]], spec: Mapping[str, str]) -> dict[str, str]:
    """A SKU's spec in the order of the product's dimensions (JSON keeps what it is given)."""
    return {d["name"]: spec[d["name"]] for d in specs if d["name"] in spec}


# 图文详情: text structure and the shop's own images, nothing else. Scripts and styles go with their content;
# attributes other than an image's src and alt go (event handlers with them); a src that is not this shop's
# media (a third-party tracker, `javascript:`, `data:`) goes, and an image left without one goes entirely.
DETAIL_TAGS = {"p", "br", "strong", "b", "em", "i", "u", "h2", "h3", "ul", "ol", "li", "blockquote", "img"}
_SRCLESS_IMG = re.compile(r"<img(?![^>]*\ssrc=)[^>]*>")


def _media_src_only(tag: str, attr: str, value: str) -> str | None:
    if tag == "img" and attr == "src":
        return value if is_media_url(value) else None
    return value


def clean_detail_html(html: str) -> str:
    """The rich-text detail as it may be shown: the allowlist kept, everything else stripped."""
    cleaned = nh3.clean(
        html,
        tags=DETAIL_TAGS,
        clean_content_tags={"script", "style", "iframe", "object", "embed", "template", "noscript", "svg", "math"},
        attributes={"img": {"src", "alt"}},
        attribute_filter=_media_src_only,
        url_schemes=set(),
        link_rel=None,
        strip_comments=True,
    )
    return _SRCLESS_IMG.sub("", cleaned).strip()
