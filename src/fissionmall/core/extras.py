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
from typing import Any

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
