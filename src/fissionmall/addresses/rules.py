"""Pure decisions about an address's region against the shipped GB/T 2260 table (`core.regions`).

- A `region_code` names a place a parcel can go to: a county-level code (区/县), or a city with no counties
  (东莞、中山、儋州、嘉峪关: the table lists their 街道/镇 with nine-digit codes, which are accepted too), or a
  province-level code with nothing below it (台湾、香港、澳门). A province or a city that has counties is
  too coarse for a courier and is refused, as is a code the table does not hold.
- The stored `region` text comes from the code, unless the shopper's own text names the same place
  ("广东 广州 海珠" or "广东省广州市海珠区" for 440105): then their spelling is kept.
- `wx.chooseAddress` results are mapped to a code by WeChat's `nationalCode` when the table holds it,
  else by the province, city and county names.
"""

from __future__ import annotations

from fissionmall.core import regions

# Levels the table carries that a full name leaves out (a municipality's 市辖区 / 县 rows).
_FILLERS = ("市辖区", "县")
# Endings a shopper (or WeChat) may leave off: "广东" for 广东省, "海珠" for 海珠区.
_SUFFIXES = (
    *("特别行政区", "维吾尔自治区", "壮族自治区", "回族自治区", "自治区", "自治州", "自治县"),
    *("省", "市", "新区", "区", "县", "盟", "旗"),
)


def deliverable(code: str) -> bool:
    """Whether the code is one of the table's places a parcel goes to (county level, or the lowest level
    a city or province has in the table)."""
    r = regions.get(code)
    if r is None:
        return False
    if r.level == 3:
        return True
    # Below a county-less city the table lists towns (nine digits); below Taiwan, Hong Kong, Macao nothing.
    return not any(len(c.code) == 6 for c in regions.children(code))


def _names(code: str) -> list[str]:
    return [r.name for r in regions.path(code) if r.name not in _FILLERS]


def _bare(name: str) -> str:
    for s in _SUFFIXES:
        if name.endswith(s) and len(name) > len(s) + 1:
            return name[: -len(s)]
    return name


def _matches(typed: str, name: str) -> bool:
    return typed == name or (len(typed) >= 2 and _bare(typed) == _bare(name))


def same_place(text: str, code: str) -> bool:
    """Whether the shopper's region text names the place of `code` (suffixes may be left off, spaces too)."""
    names = _names(code)
    if not names:
        return False
    if "".join(text.split()) == "".join(names):
        return True
    tokens = []
    for t in text.split():
        if t not in tokens and t not in _FILLERS:  # "北京市 北京市 朝阳区", as WeChat spells municipalities
            tokens.append(t)
    # Below a place the table does not divide (香港, 东莞) the shopper may name more: "香港 九龙城区".
    finer = regions.path(code)[-1].level < 3
    if len(tokens) != len(names) and not (finer and len(tokens) > len(names)):
        return False
    return all(_matches(t, n) for t, n in zip(tokens, names, strict=False))


def region_text(text: str | None, code: str) -> str:
    """The region text to store for a deliverable code: the shopper's when it names the same place, else
    the table's full name."""
    if text and same_place(text, code):
        return text
    return regions.full_name(code) or (text or "")


def _pick(candidates: list[regions.Region], name: str) -> regions.Region | None:
    if not name:
        return None
    exact = [r for r in candidates if r.name == name]
    if exact:
        return exact[0]
    loose = [r for r in candidates if _matches(name, r.name)]
    return loose[0] if len(loose) == 1 else None


def _by_names(province: str, city: str, county: str) -> str | None:
    p = _pick(regions.provinces(), province)
    if p is None:
        return None
    if deliverable(p.code):
        return p.code
    cities = regions.children(p.code)
    c = _pick(cities, city)
    if c is None:
        # A municipality: WeChat repeats the province as the city, the table has 市辖区 / 县 there.
        k = _pick([k for x in cities for k in regions.children(x.code)], county)
        return k.code if k is not None else None
    k = _pick(regions.children(c.code), county)
    if k is not None and deliverable(k.code):
        return k.code
    return c.code if deliverable(c.code) else None


def wechat_code(*, province: str, city: str, county: str, national_code: str | None) -> str | None:
    """The table's code for a `wx.chooseAddress` result: its nationalCode when the table holds it as a
    deliverable place in the province WeChat names (the names are what the shopper saw), else the code
    the names lead to, else None (the text is kept alone)."""
    named = _by_names(province, city, county)
    if national_code and national_code.isdigit() and deliverable(national_code):
        if named is None or regions.province_of(named) == regions.province_of(national_code):
            return national_code
    return named
