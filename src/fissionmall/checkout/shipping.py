"""Shipping's part of checkout: gather the shop's 运费模板, each SKU's template and weight and where the
order goes (the address asked for, else the shopper's default one), refuse a region a template does not
deliver to (SHIPPING_REGION_NOT_DELIVERED, naming the products), and hand the chain's shipping step its
`Book`. A shop without templates is left to the flat fee (`shipping_fee_fen`)."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from fissionmall.addresses import service as addresses
from fissionmall.checkout import contributions
from fissionmall.checkout.contributions import Ask
from fissionmall.pricing.rules import PricingContext
from fissionmall.shipping import service as shipping

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from fissionmall.checkout.schemas import CheckoutRequest
    from fissionmall.shipping.rules import Book

NAME = "shipping"


def options_for(address: dict[str, Any] | None) -> dict[str, Any]:
    """The checkout option that names the address an order ships to (its copy as orders keep it)."""
    return {NAME: {"address": address}} if address is not None else {}


async def preview_options(s: AsyncSession, *, customer_id: int | None, body: CheckoutRequest) -> dict[str, Any]:
    """A preview's address: the inline one, else the book's `address_id`; none: the default address."""
    if body.address is not None:
        return options_for(body.address.snapshot())
    if body.address_id is not None and customer_id is not None:
        a = await addresses.get_address(s, customer_id=customer_id, address_id=body.address_id)
        return options_for({"region_code": a.region_code, "region": a.region})
    return {}


async def _load(s: AsyncSession, ask: Ask) -> Book | None:
    address = ((ask.options or {}).get(NAME) or {}).get("address")
    lines = [(p.sku_id, p.qty) for p in ask.plan.lines]
    return await shipping.book(s, lines=lines, customer_id=ask.customer_id, address=address)


def _context(part: Book | None, ctx: PricingContext, ask: Ask) -> PricingContext:
    return ctx if part is None else replace(ctx, shipping=part)


contributions.register(contributions.Contribution(name=NAME, load=_load, context=_context))
