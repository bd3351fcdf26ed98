"""运费模板: the merchant's CRUD (exactly one default while any exists), what checkout reads to charge
shipping, and the 包邮 label and the product form's choices the catalogue shows."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.addresses import service as addresses
from fissionmall.catalog.models import Product, Sku
from fissionmall.core import cache, clock, extras, regions
from fissionmall.core.errors import AppError, Conflict, NotFound
from fissionmall.shipping import rules
from fissionmall.shipping.errors import ShippingError
from fissionmall.shipping.models import ShippingTemplate
from fissionmall.shipping.schemas import TemplateAdmin, TemplateCreate, TemplateUpdate

SHIPPING = "shipping"
_templates: cache.Value[tuple[rules.Template, ...]] = cache.Value(SHIPPING)
# The fields a template's JSON lists keep, exactly as the schemas name them.
_CHARGE = ("first_units", "first_fee_fen", "additional_units", "additional_fee_fen")


def to_rules(t: ShippingTemplate) -> rules.Template:
    """A template row as the pure rules read it."""

    def charge(d: dict[str, Any]) -> rules.Charge:
        first_units, first_fee, additional_units, additional_fee = (int(d[k]) for k in _CHARGE)
        return rules.Charge(first_units, first_fee, additional_units, additional_fee, tuple(d.get("regions") or ()))

    return rules.Template(
        id=t.id,
        name=t.name,
        mode=t.mode,
        default=charge(t.default_rule),
        rules=tuple(charge(r) for r in t.rules or ()),
        free=tuple(
            rules.FreeRule(f.get("min_amount_fen"), f.get("min_count"), tuple(f.get("regions") or ()))
            for f in t.free or ()
        ),
        not_delivered=tuple(t.not_delivered or ()),
        is_default=t.is_default,
    )


def _known_codes() -> set[str]:
    return {r.code for r in regions.provinces()} | {
        c.code for p in regions.provinces() for c in regions.children(p.code)
    }


def _check(t: ShippingTemplate) -> None:
    found = rules.problems(to_rules(t), _known_codes())
    if found:
        raise AppError(
            found[0].code, field=found[0].field, problems=[{"code": p.code, "field": p.field} for p in found]
        )


async def _in_use(s: AsyncSession, template_id: int) -> int:
    # Catalog owns products; it names the template and keeps no foreign key (see catalog/models.py).
    return (
        await s.scalar(select(func.count()).select_from(Product).where(Product.shipping_template_id == template_id))
        or 0
    )


async def to_admin(s: AsyncSession, *, t: ShippingTemplate) -> TemplateAdmin:
    """A template as the admin API shows it, with how many products use it."""
    return TemplateAdmin.model_validate(
        {
            "id": t.id,
            "name": t.name,
            "mode": t.mode,
            "is_default": t.is_default,
            "default_rule": t.default_rule,
            "rules": t.rules,
            "free": t.free,
            "not_delivered": t.not_delivered,
            "products": await _in_use(s, t.id),
            "free_everywhere": rules.free_everywhere(to_rules(t)),
            "created_at": t.created_at,
            "updated_at": t.updated_at,
        }
    )


async def list_templates(s: AsyncSession) -> Sequence[ShippingTemplate]:
    """Every template, the default first."""
    return (
        await s.scalars(select(ShippingTemplate).order_by(ShippingTemplate.is_default.desc(), ShippingTemplate.id))
    ).all()


async def get_template(s: AsyncSession, *, template_id: int, lock: bool = False) -> ShippingTemplate:
    """One template (SHIPPING_TEMPLATE_NOT_FOUND when it does not exist)."""
    q = select(ShippingTemplate).where(ShippingTemplate.id == template_id)
    t = await s.scalar(q.with_for_update() if lock else q)
    if t is None:
        raise NotFound(ShippingError.SHIPPING_TEMPLATE_NOT_FOUND)
    return t


async def _become_default(s: AsyncSession, t: ShippingTemplate, *, asked: bool) -> None:
    """Make `t` the one default: the old default stops being one in the same transaction. Two writers
    racing to set a default meet at the unique index: the later one is refused (SHIPPING_ONE_DEFAULT)
    when it asked for it, or stays an ordinary template when it was only the shop's "first" one."""
    try:
        async with s.begin_nested():
            if asked:  # the shop's "first" template takes the default only if no one else has it
                await s.execute(
                    update(ShippingTemplate)
                    .where(ShippingTemplate.is_default.is_(True), ShippingTemplate.id != t.id)
                    .values(is_default=False)
                    .execution_options(synchronize_session=False)
                )
            t.is_default = True
            await s.flush()
    except IntegrityError as exc:
        if asked:
            raise Conflict(ShippingError.SHIPPING_ONE_DEFAULT) from exc
        t.is_default = False


def _dump(data: TemplateCreate | TemplateUpdate, name: str) -> Any:
    return getattr(data, name) if name in ("name", "mode", "is_default") else data.model_dump(mode="json")[name]


async def create_template(s: AsyncSession, *, data: TemplateCreate) -> ShippingTemplate:
    """A new template; the shop's first one becomes the default whatever was asked."""
    now = clock.now()
    first = not await s.scalar(select(func.count()).select_from(ShippingTemplate))
    t = ShippingTemplate(
        name=data.name,
        mode=data.mode,
        is_default=False,
        default_rule=_dump(data, "default_rule"),
        rules=_dump(data, "rules"),
        free=_dump(data, "free"),
        not_delivered=_dump(data, "not_delivered"),
        created_at=now,
        updated_at=now,
    )
    _check(t)
    s.add(t)
    await s.flush()
    if first or data.is_default:
        await _become_default(s, t, asked=data.is_default)
    await cache.bump(s, SHIPPING)
    return t


async def update_template(s: AsyncSession, *, template_id: int, data: TemplateUpdate) -> ShippingTemplate:
    """Change a template; lists given replace the template's. The default cannot stop being it here:
    another template is made the default instead (SHIPPING_DEFAULT_REQUIRED)."""
    t = await get_template(s, template_id=template_id, lock=True)
    if data.is_default is False and t.is_default:
        raise Conflict(ShippingError.SHIPPING_DEFAULT_REQUIRED)
    for name in ("name", "mode", "default_rule", "rules", "free", "not_delivered"):
        if name in data.model_fields_set:
            setattr(t, name, _dump(data, name))
    _check(t)
    t.updated_at = clock.now()
    await s.flush()
    if data.is_default and not t.is_default:
        await _become_default(s, t, asked=True)
    await cache.bump(s, SHIPPING)
    return t


async def delete_template(s: AsyncSession, *, template_id: int) -> None:
    """Delete a template no product uses (SHIPPING_TEMPLATE_IN_USE); the default only when it is the last
    (SHIPPING_DEFAULT_REQUIRED): without templates the shop charges its flat fee again."""
    t = await get_template(s, template_id=template_id, lock=True)
    if await _in_use(s, t.id):
        raise Conflict(ShippingError.SHIPPING_TEMPLATE_IN_USE)
    if t.is_default and await s.scalar(
        select(func.count()).select_from(ShippingTemplate).where(ShippingTemplate.id != t.id)
    ):
        raise Conflict(ShippingError.SHIPPING_DEFAULT_REQUIRED)
    await s.delete(t)
    await cache.bump(s, SHIPPING)


# ---- what checkout and the catalogue read ---------------------------------------------------------


async def _load(s: AsyncSession) -> tuple[rules.Template, ...]:
    return tuple(to_rules(t) for t in await list_templates(s))


async def templates(s: AsyncSession) -> tuple[rules.Template, ...]:
    """The shop's templates as the rules read them, from the process cache (an edit shows at once here,
    within about `cache.POLL_SECONDS` elsewhere)."""
    return await _templates.get(s, _load)


async def _sku_facts(s: AsyncSession, sku_ids: Sequence[int]) -> dict[int, tuple[int | None, int, str]]:
    stmt = select(Sku.id, Product.shipping_template_id, Product.title, Sku.weight_g).join(
        Product, Sku.product_id == Product.id
    )
    rows = await s.execute(stmt.where(Sku.id.in_(sku_ids)))
    return {sku_id: (tid, int(grams or 0), title) for sku_id, tid, title, grams in rows.all()}


def _provinces() -> dict[str, str]:
    return {p.name: p.code for p in regions.provinces()}


def destination_of(address: dict[str, Any] | None) -> str | None:
    """The region code an address ships to (its `region_code`, else the province its region text names)."""
    if not address:
        return None
    return rules.province_code(address.get("region_code"), address.get("region"), _provinces())


async def book(
    s: AsyncSession, *, lines: Sequence[tuple[int, int]], customer_id: int | None, address: dict[str, Any] | None
) -> rules.Book | None:
    """What the price chain needs to charge the `(sku_id, qty)` lines by template, or None when the shop
    has no template (the flat fee applies). Without an address: the shopper's default address, else the
    default rule, and the label says which. A template that does not deliver there refuses the checkout
    (SHIPPING_REGION_NOT_DELIVERED, naming the products)."""
    ts = await templates(s)
    if not ts:
        return None
    dest = destination_of(address)
    note = "" if dest is not None or address is None else "未能识别地址所在省份，按默认运费计"
    if address is None:
        d = await addresses.default_address(s, customer_id=customer_id) if customer_id is not None else None
        dest = destination_of({"region_code": d.region_code, "region": d.region}) if d is not None else None
        note = "按默认地址计" if dest is not None else "未选地址，按默认运费计"
    facts = await _sku_facts(s, [sku_id for sku_id, _ in lines])
    b = rules.Book(
        templates={t.id: t for t in ts},
        default_id=next((t.id for t in ts if t.is_default), None),
        sku_template={k: v[0] for k, v in facts.items()},
        sku_weight_g={k: v[1] for k, v in facts.items()},
        destination=dest,
        note=note,
    )
    items = [rules.Item(sku_id, facts[sku_id][2], qty, 0) for sku_id, qty in lines if sku_id in facts]
    titles = rules.undeliverable(b, items)
    if titles:
        raise AppError(
            ShippingError.SHIPPING_REGION_NOT_DELIVERED,
            f"所选地址不在以下商品的配送范围内：{'、'.join(titles)}",
            products=titles,
        )
    return b


async def free_label(s: AsyncSession, *, product_id: int) -> bool:
    """Whether the product ships free wherever it delivers, by its template (the 包邮 label)."""
    ts = await templates(s)
    if not ts:
        return False
    tid = await s.scalar(select(Product.shipping_template_id).where(Product.id == product_id))
    return _free_by(ts, tid)


def _free_by(ts: Sequence[rules.Template], template_id: int | None) -> bool:
    """Whether the named template (None or unknown: the default) ships free wherever it delivers."""
    named = next((t for t in ts if t.id == template_id), None) if template_id is not None else None
    t = named or next((t for t in ts if t.is_default), None)
    return t is not None and rules.free_everywhere(t)


FREE_LABEL = "包邮"


@extras.contributes(extras.PRODUCT)
async def _product_labels(s: AsyncSession, *, product: Any, category_id: int | None) -> dict[str, Any]:
    """包邮 is derived, never typed: a typed one is dropped; the template or a promotion adds it."""
    labels = [x for x in product.labels if x != FREE_LABEL]
    by_tool = await extras.gather(extras.FREE_SHIPPING, s=s, product=product, category_id=category_id)
    if by_tool.get("free_shipping") or await free_label(s, product_id=product.id):
        labels.append(FREE_LABEL)
    return {"labels": labels}


@extras.contributes(extras.PRODUCT_LIST)
async def _list_labels(s: AsyncSession, *, products: list[Any], rows: list[Any]) -> dict[str, Any]:
    """The same derived 包邮 on the product list's cards, from the cached templates and each row's template."""
    ts = await templates(s)
    out: dict[int, list[str]] = {}
    for card, row in zip(products, rows, strict=True):
        free = _free_by(ts, row.shipping_template_id)
        if not free:
            by_tool = await extras.gather(extras.FREE_SHIPPING, s=s, product=card, category_id=row.category_id)
            free = bool(by_tool.get("free_shipping"))
        out[card.id] = [x for x in card.labels if x != FREE_LABEL] + ([FREE_LABEL] if free else [])
    return {"labels": out}


@extras.contributes(extras.PRODUCT_FORM)
async def _product_form(s: AsyncSession) -> dict[str, Any]:
    return {
        "shipping_templates": [{"id": t.id, "name": t.name, "is_default": t.is_default} for t in await templates(s)]
    }
