"""Contribution points: a response one domain owns that other tools add fields to, without the owner
importing them.

The product page lists the promotions running on the product; /me says whether the shopper is a
distributor; the console's order page shows the payment that paid the order. The owner (catalog,
accounts, orders) calls `gather(point, ...)` and declares the fields it shows; a tool registers a
contributor with `@contributes(point)` in a module imported at start-up (its service or admin module),
the same way order sources plug into orders.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal

Contributor = Callable[..., Awaitable[dict[str, Any]]]

PRODUCT = "catalog.product"  # (s, product: ProductPublic, category_id) -> fields of ProductPublic
# (s, products: list[ProductPublic], rows: list[Product]) -> {field: {product_id: value}}: the product list's
# cards (a contributor must answer from cached facts: the list is the shop's busiest read)
PRODUCT_LIST = "catalog.product_list"
ME = "accounts.me"  # (s, customer_id) -> fields of AccountPublic
ORDER_PAGE = "orders.console_page"  # (s, order) -> template context of the console's order page
# (s) -> {"shipping_templates": [{"id", "name", "is_default"}]}: the choices of the console's product form
PRODUCT_FORM = "catalog.product_form"
# (s, product: ProductPublic, category_id) -> {"free_shipping": True} when a tool ships the product free
# whatever the cart (a 包邮 promotion without threshold): shipping's 包邮 label reads it
FREE_SHIPPING = "shipping.product_free"

_points: dict[str, dict[str, Contributor]] = {}


def contributes(point: str) -> Callable[[Contributor], Contributor]:
    def register(fn: Contributor) -> Contributor:
        # keyed by qualified name: importing a module twice (tests) does not add the contributor twice
        _points.setdefault(point, {})[f"{fn.__module__}.{fn.__qualname__}"] = fn
        return fn

    return register


async def gather(point: str, **kwargs: Any) -> dict[str, Any]:
    """Every contributor's fields, merged in registration order."""
    out: dict[str, Any] = {}
    for fn in _points.get(point, {}).values():
        out.update(await fn(**kwargs))
    return out


# ---- the console's customers (customers/admin.py names no tool; each tool adds what it knows) ----------

# (s, customer_id) -> {key: CustomerPanel}: one card per tool on the customer's page (orders, coupons, …)
CUSTOMER_PANELS = "customers.panels"
# (s, customer_ids: list[int]) -> {column label: {customer_id: text}}: columns of the customer list
CUSTOMER_COLUMNS = "customers.columns"
# (params: Mapping[str, str]) -> {key: CustomerFilter}: the list's filters a tool answers (spend, distributor…)
CUSTOMER_FILTERS = "customers.filters"

# A panel's table cell: text, or (text, console href) for a link.
Cell = str | tuple[str, str]


@dataclass(frozen=True)
class CustomerPanel:
    """A card on the console's customer page: figures (label, value), a table, a link, a button."""

    title: str
    order: int = 50  # cards sort by it: orders 10, coupons 20, distribution 30, risk 40; a wallet, points… later
    rows: tuple[tuple[str, Cell], ...] = ()
    head: tuple[str, ...] = ()
    table: tuple[tuple[Cell, ...], ...] = ()
    empty: str = ""  # shown when the table has no row
    link: tuple[str, str] | None = None  # (text, href): the tool's own page for more
    # (button text, POST action, hidden fields, confirm question or "", danger?): one action on this customer
    action: tuple[str, str, tuple[tuple[str, str], ...], str, bool] | None = None
    # (template under web/templates/, its context as `part`): a tool's own fragment at the card's foot (a form)
    include: tuple[str, dict[str, Any]] | None = None


@dataclass(frozen=True)
class FilterField:
    """One control of the customer list's filter form."""

    kind: Literal["yuan_range", "date_range", "select", "customer"]
    names: tuple[str, ...]  # the query parameters (two for a range)
    label: str
    options: tuple[tuple[str, str], ...] = ()  # (value, label) of a select; "" is 不限
    hint: str = ""


@dataclass(frozen=True)
class CustomerFilter:
    """A tool's filter of the customer list: its controls, and for what was asked, the condition on
    customers.id (None: not asked) or the message beside the control."""

    fields: tuple[FilterField, ...]
    where: Any = None  # a SQLAlchemy boolean expression over accounts.models.Customer.id
    errors: tuple[tuple[str, str], ...] = ()  # (parameter name, Chinese message)
    order: int = 50
