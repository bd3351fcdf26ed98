"""The console's sidebar: its sections, the rows the domains' admin modules declare, and their icons.

A domain's `admin.py` declares `NAV` rows and optionally a `NAV_SECTION` (where its rows go unless a row says
otherwise). A row is one of

- `(key, label, href, permission)`: in the module's NAV_SECTION;
- `(key, label, href, permission, section)`: in its own section (distribution's 佣金提现 under 财务, say);
- a dict with the keys `key`, `label`, `href` and optionally `permission`, `section`, `icon`.

An unknown section, a malformed row or a key two rows share stops `mount`: a page that silently vanished from
the sidebar would be worse than an app that does not start.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from markupsafe import Markup

# The sidebar's sections, in order (the keys are fixed: domains name them in NAV_SECTION).
SECTIONS: dict[str, str] = {
    "catalog": "商品",
    "orders": "订单/售后",
    "marketing": "营销",
    "distribution": "分销",
    "customers": "客户",
    "finance": "财务",
    "settings": "设置",
    "system": "系统",
}
DEFAULT_SECTION = "marketing"  # a module without NAV_SECTION is one of the marketing tools


class NavError(ValueError):
    """A domain's NAV rows the sidebar cannot place (raised when the console is mounted)."""


@dataclass(frozen=True)
class NavRow:
    """One sidebar row: `permission` is what an admin needs to see it; `section` is "" for 概览 only."""

    key: str
    label: str
    href: str
    permission: str | None = None
    section: str = ""
    icon: str = ""

    @property
    def icon_name(self) -> str:
        """The row's own icon, else one named like the row, else its section's."""
        for name in (self.icon, self.key):
            if name in ICONS:
                return name
        return self.section or "dashboard"


HOME = NavRow("dashboard", "概览", "/admin/", None)
_ROW_FIELDS = frozenset({"key", "label", "href", "permission", "section", "icon"})


def _row(where: str, raw: Any, default_section: str) -> NavRow:
    if isinstance(raw, Mapping):
        unknown = set(raw) - _ROW_FIELDS
        if unknown or not {"key", "label", "href"} <= set(raw):
            raise NavError(f"{where}: NAV row {dict(raw)!r} needs key, label, href (and knows no {sorted(unknown)})")
        row = NavRow(**{"section": default_section, **raw})
    elif isinstance(raw, tuple) and len(raw) in (4, 5):
        key, label, href, permission = raw[:4]
        row = NavRow(key, label, href, permission, raw[4] if len(raw) == 5 else default_section)
    else:
        raise NavError(f"{where}: a NAV row is (key, label, href, permission[, section]) or a dict, not {raw!r}")
    if row.section not in SECTIONS:
        raise NavError(
            f"{where}: NAV row {row.key!r} names an unknown section {row.section!r}; known: {list(SECTIONS)}"
        )
    if not row.href.startswith("/admin"):
        raise NavError(f"{where}: NAV row {row.key!r} points outside the console ({row.href!r})")
    return row


def build(modules: Iterable[ModuleType]) -> list[NavRow]:
    """The sidebar's rows: 概览, then each section's rows in module order (see the module docstring)."""
    by_section: dict[str, list[NavRow]] = {name: [] for name in SECTIONS}
    seen = {HOME.key: "the console kit"}
    for module in modules:
        where = module.__name__
        default = getattr(module, "NAV_SECTION", DEFAULT_SECTION)
        if default not in SECTIONS:
            raise NavError(f"{where}: NAV_SECTION {default!r} is not a section; known: {list(SECTIONS)}")
        for raw in getattr(module, "NAV", ()):
            row = _row(where, raw, default)
            if row.key in seen:
                raise NavError(f"{where}: NAV key {row.key!r} is already used by {seen[row.key]}")
            seen[row.key] = where
            by_section[row.section].append(row)
    return [HOME, *(row for name in SECTIONS for row in by_section[name])]


def groups(rows: Iterable[NavRow], can: Callable[[str], bool]) -> list[tuple[str, str, list[NavRow]]]:
    """The rows an admin may see, as (section, heading, rows), empty sections left out (概览 not included)."""
    visible: dict[str, list[NavRow]] = {}
    for row in rows:
        if row.section and (row.permission is None or can(row.permission)):
            visible.setdefault(row.section, []).append(row)
    return [(name, SECTIONS[name], visible[name]) for name in SECTIONS if name in visible]


# ---- icons: inline SVG (no icon font, nothing from a CDN; presentation attributes only, so the console's
# style-src 'self' policy allows them), 24×24, drawn with the text colour. --------------------------------

_SVG = (
    '<svg class="icon" viewBox="0 0 24 24" width="18" height="18" fill="none" stroke="currentColor" '
    'stroke-width="1.8" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true" focusable="false">{}</svg>'
)
_BAG = '<path d="M5 8h14l-1 12H6z"/><path d="M9 8V6a3 3 0 0 1 6 0v2"/>'
_CLIPBOARD = '<rect x="5" y="4" width="14" height="17" rx="2"/><path d="M9 3h6v3H9zM9 11h6M9 15h6M9 19h3"/>'
_MEGAPHONE = '<path d="M3 10v4h4l7 5V5L7 10z"/><path d="M17.5 8.5a5 5 0 0 1 0 7"/>'
_SHARE = (
    '<circle cx="18" cy="5" r="2.5"/><circle cx="6" cy="12" r="2.5"/><circle cx="18" cy="19" r="2.5"/>'
    '<path d="M8.3 10.8l7.4-4.6M8.3 13.2l7.4 4.6"/>'
)
_USER = '<circle cx="12" cy="8" r="4"/><path d="M4 21a8 8 0 0 1 16 0"/>'
_USERS = (
    '<circle cx="9" cy="8" r="3.5"/><path d="M2.5 20a6.5 6.5 0 0 1 13 0"/>'
    '<path d="M16 4.5a3.5 3.5 0 0 1 0 7M18 14a5.5 5.5 0 0 1 3.5 6"/>'
)
_WALLET = '<path d="M4 7h16v13H4z"/><path d="M4 7l11-3v3"/><path d="M16 13.5h.01"/>'
_SLIDERS = (
    '<path d="M4 6h10M18 6h2M4 12h4M12 12h8M4 18h12"/>'
    '<circle cx="16" cy="6" r="2"/><circle cx="10" cy="12" r="2"/><circle cx="18" cy="18" r="2"/>'
)
_TERMINAL = '<rect x="3" y="4" width="18" height="16" rx="2"/><path d="M7 9l3 3-3 3M13 15h4"/>'
_BANKNOTE = (
    '<rect x="3" y="6" width="18" height="12" rx="2"/><circle cx="12" cy="12" r="2.5"/>'
    '<path d="M6.5 9.5h.01M17.5 14.5h.01"/>'
)

ICONS: dict[str, str] = {
    "dashboard": '<rect x="3" y="3" width="7" height="9" rx="1.5"/><rect x="14" y="3" width="7" height="5" rx="1.5"/>'
    '<rect x="14" y="12" width="7" height="9" rx="1.5"/><rect x="3" y="16" width="7" height="5" rx="1.5"/>',
    # sections
    "catalog": _BAG,
    "orders": _CLIPBOARD,
    "marketing": _MEGAPHONE,
    "distribution": _SHARE,
    "customers": _USER,
    "finance": _WALLET,
    "settings": _SLIDERS,
    "system": _TERMINAL,
    # rows
    "products": _BAG,
    "media": '<rect x="3" y="4" width="18" height="16" rx="2"/>'
    '<circle cx="9" cy="10" r="2"/><path d="M21 17l-5-5-9 8"/>',
    "refunds": '<path d="M9 14L4 9l5-5"/><path d="M4 9h10.5a5.5 5.5 0 0 1 0 11H11"/>',
    "coupons": '<path d="M4 6h16v4a2 2 0 0 0 0 4v4H4v-4a2 2 0 0 0 0-4z"/><path d="M14 7v2M14 11v2M14 15v2"/>',
    "promotions": '<path d="M3 12V3h9l9 9-9 9z"/><circle cx="7.5" cy="7.5" r="1.5"/>',
    "seckill": '<path d="M13 2L4 14h7l-1 8 9-12h-7z"/>',
    "groupbuy": _USERS,
    "risk": '<path d="M12 3l8 3v6c0 5-3.5 8-8 9-4.5-1-8-4-8-9V6z"/><path d="M9 12l2 2 4-4"/>',
    "payments": '<rect x="3" y="5" width="18" height="14" rx="2"/><path d="M3 10h18M7 15h4"/>',
    "distribution-withdrawals": _BANKNOTE,
    "withdrawals": _BANKNOTE,
    "reconciliation": '<path d="M10 6h10M10 12h10M10 18h10"/>'
    '<path d="M3 6l1.5 1.5L7 4.5M3 12l1.5 1.5L7 10.5M3 18l1.5 1.5L7 16.5"/>',
    "shipping": '<path d="M2 6h12v10H2z"/><path d="M14 10h4l3 3v3h-7"/>'
    '<circle cx="6" cy="18" r="2"/><circle cx="17" cy="18" r="2"/>',
    "staff": '<rect x="4" y="3" width="16" height="18" rx="2"/>'
    '<circle cx="12" cy="10" r="3"/><path d="M8 17a4 4 0 0 1 8 0"/>',
    "stores": '<path d="M3 9l2-5h14l2 5M3 9a3 3 0 0 0 6 0 3 3 0 0 0 6 0 3 3 0 0 0 6 0M5 12v8h14v-8M10 20v-5h4v5"/>',
    "wechat": '<path d="M4 5h16v11H9l-5 4z"/><path d="M9 10.5h.01M15 10.5h.01"/>',
    "jobs": '<circle cx="12" cy="12" r="9"/><path d="M12 7v5l3 2"/>',
    "notifications": '<path d="M6 16v-5a6 6 0 0 1 12 0v5l2 2H4z"/><path d="M10 21h4"/>',
    "developer": '<path d="M8 6l-6 6 6 6M16 6l6 6-6 6M14 4l-4 16"/>',
    "monitor": '<path d="M3 12h4l3-8 4 16 3-8h4"/>',
}


def icon(name: str) -> Markup:
    """The inline SVG of an icon (a section's or a row's); an unknown name draws the 概览 one."""
    return Markup(_SVG.format(ICONS.get(name) or ICONS["dashboard"]))
