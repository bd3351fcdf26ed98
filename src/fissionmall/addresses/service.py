"""The address book (收货地址): one default per shopper, a cap, and the copy an order takes.

Every write to a shopper's book runs under that shopper's row lock (`customers` row, FOR UPDATE on
PostgreSQL; SQLite's write lock is the transaction's already), so the count checked against the cap and
the single default cannot be raced. The partial unique index on (customer_id) WHERE is_default is the
backstop. The rules:
- the first address becomes the default; making another one the default unsets the old one in the same
  transaction;
- deleting the default promotes the most recently created or edited of the others;
- at most MAX_ADDRESSES per shopper (ADDRESS_BOOK_FULL);
- a `region_code`, when sent, is a deliverable place of the GB/T 2260 table (`rules.deliverable`:
  REGION_UNKNOWN otherwise) and the stored `region` text is named from it unless the shopper's own text
  names the same place. A body with only the text is stored as sent, without a code.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import ValidationError
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.accounts.models import Customer
from fissionmall.addresses import rules
from fissionmall.addresses.errors import AddressesError
from fissionmall.addresses.models import CustomerAddress
from fissionmall.addresses.schemas import Address, AddressCreate, AddressUpdate, normalize_phone
from fissionmall.core import clock
from fissionmall.core.errors import AppError, Conflict, CoreError, NotFound

MAX_ADDRESSES = 20


def _not_found() -> NotFound:
    return NotFound(AddressesError.ADDRESS_NOT_FOUND)


def checked_region(*, text: str | None, code: str) -> str:
    """The region text to store with `code`, or 422 REGION_UNKNOWN when the code is not a deliverable
    place of the table (a province or city that has counties, or a code it does not hold)."""
    if not rules.deliverable(code):
        raise AppError(AddressesError.REGION_UNKNOWN, region_code=code)
    return rules.region_text(text, code)


def validation_error(exc: ValidationError) -> AppError:
    """A model built inside a call (wx.chooseAddress → an address) refused: the same 422 as a body's."""
    detail = [
        {"loc": ["body", *e.get("loc", ())], "msg": e.get("msg"), "type": e.get("type")}
        for e in exc.errors(include_url=False, include_context=False, include_input=False)
    ]
    return AppError(CoreError.VALIDATION_ERROR, errors=detail)


async def _lock_book(s: AsyncSession, customer_id: int) -> None:
    await s.execute(select(Customer.id).where(Customer.id == customer_id).with_for_update())


async def list_addresses(s: AsyncSession, *, customer_id: int) -> list[CustomerAddress]:
    """The default first, then the most recently created or edited."""
    q = (
        select(CustomerAddress)
        .where(CustomerAddress.customer_id == customer_id)
        .order_by(CustomerAddress.is_default.desc(), CustomerAddress.updated_at.desc(), CustomerAddress.id.desc())
    )
    return list((await s.scalars(q.execution_options(populate_existing=True))).all())


async def get_address(s: AsyncSession, *, customer_id: int, address_id: int) -> CustomerAddress:
    """One of the shopper's own addresses; someone else's is not found, as a missing one (leaking nothing)."""
    a = await s.scalar(
        select(CustomerAddress)
        .where(CustomerAddress.id == address_id, CustomerAddress.customer_id == customer_id)
        .execution_options(populate_existing=True)
    )
    if a is None:
        raise _not_found()
    return a


async def _unset_default(s: AsyncSession, customer_id: int, *, keep: int | None = None) -> None:
    q = update(CustomerAddress).where(CustomerAddress.customer_id == customer_id, CustomerAddress.is_default.is_(True))
    if keep is not None:
        q = q.where(CustomerAddress.id != keep)
    await s.execute(q.values(is_default=False).execution_options(synchronize_session=False))


async def create_address(
    s: AsyncSession, *, customer_id: int, body: AddressCreate, source: str = "manual"
) -> CustomerAddress:
    """Add an address to the shopper's book (at most MAX_ADDRESSES); the first one becomes the default."""
    await _lock_book(s, customer_id)
    n = await s.scalar(select(func.count()).where(CustomerAddress.customer_id == customer_id)) or 0
    if n >= MAX_ADDRESSES:
        raise Conflict(
            AddressesError.ADDRESS_BOOK_FULL,
            f"地址簿已满（最多 {MAX_ADDRESSES} 个），请先删除不用的地址",
            limit=MAX_ADDRESSES,
        )
    region = checked_region(text=body.region, code=body.region_code) if body.region_code else body.region
    make_default = body.is_default or n == 0
    if make_default:
        await _unset_default(s, customer_id)
    now = clock.now()
    a = CustomerAddress(
        customer_id=customer_id,
        name=body.name,
        phone=body.phone,
        phone_normalized=normalize_phone(body.phone),
        region=region,
        region_code=body.region_code,
        detail=body.detail,
        postal_code=body.postal_code or None,
        is_default=make_default,
        source=source,
        created_at=now,
        updated_at=now,
    )
    s.add(a)
    await s.flush()
    return a


async def update_address(s: AsyncSession, *, customer_id: int, address_id: int, body: AddressUpdate) -> CustomerAddress:
    """Change the fields sent of one of the shopper's addresses; `is_default` moves the default here."""
    await _lock_book(s, customer_id)
    a = await get_address(s, customer_id=customer_id, address_id=address_id)
    sent = body.model_fields_set
    for f in ("name", "detail"):
        if getattr(body, f) is not None:
            setattr(a, f, getattr(body, f))
    if body.phone is not None:
        a.phone, a.phone_normalized = body.phone, normalize_phone(body.phone)
    _update_region(a, body)
    if "postal_code" in sent:
        a.postal_code = body.postal_code or None
    if body.is_default is True and not a.is_default:
        await _unset_default(s, customer_id, keep=a.id)
        a.is_default = True
    elif body.is_default is False and a.is_default:
        raise Conflict(AddressesError.ADDRESS_DEFAULT_REQUIRED)
    a.updated_at = clock.now()
    await s.flush()
    return a


def _update_region(a: CustomerAddress, body: AddressUpdate) -> None:
    sent = body.model_fields_set
    if "region_code" in sent and body.region_code:
        a.region = checked_region(text=body.region or a.region, code=body.region_code)
        a.region_code = body.region_code
        return
    if "region_code" in sent:  # null clears the code; the text stays (or becomes what was sent)
        a.region_code = None
    if body.region is not None:
        # New text alone: the old code goes unless the text still names its place, so the two never disagree.
        if a.region_code and not rules.same_place(body.region, a.region_code):
            a.region_code = None
        a.region = body.region


async def delete_address(s: AsyncSession, *, customer_id: int, address_id: int) -> CustomerAddress | None:
    """Delete one; returns the new default when the deleted one was it (None if the book is now empty or
    the default did not change)."""
    await _lock_book(s, customer_id)
    a = await get_address(s, customer_id=customer_id, address_id=address_id)
    was_default = a.is_default
    await s.delete(a)
    await s.flush()
    if not was_default:
        return None
    nxt = await s.scalar(
        select(CustomerAddress)
        .where(CustomerAddress.customer_id == customer_id)
        .order_by(CustomerAddress.updated_at.desc(), CustomerAddress.id.desc())
        .limit(1)
    )
    if nxt is None:
        return None
    nxt.is_default = True
    await s.flush()
    return nxt


async def default_address(s: AsyncSession, *, customer_id: int) -> CustomerAddress | None:
    """The shopper's default address, or None."""
    return await s.scalar(
        select(CustomerAddress).where(CustomerAddress.customer_id == customer_id, CustomerAddress.is_default.is_(True))
    )


def _as_address(a: CustomerAddress) -> Address:
    return Address.model_construct(
        name=a.name, phone=a.phone, region=a.region, detail=a.detail, region_code=a.region_code
    )


async def order_address(
    s: AsyncSession, *, customer_id: int, address: Address | None, address_id: int | None
) -> dict[str, Any]:
    """The copy of the address an order ships to: the inline one, else the book's `address_id` (the
    shopper's own: ADDRESS_NOT_FOUND otherwise), else the default; ADDRESS_REQUIRED when there is none."""
    if address is not None:
        if address.region_code and not rules.deliverable(address.region_code):
            raise AppError(AddressesError.REGION_UNKNOWN, region_code=address.region_code)
        return address.snapshot()
    if address_id is not None:
        a = await get_address(s, customer_id=customer_id, address_id=address_id)
        return _as_address(a).snapshot(address_id=a.id)
    d = await default_address(s, customer_id=customer_id)
    if d is None:
        raise AppError(AddressesError.ADDRESS_REQUIRED)
    return _as_address(d).snapshot(address_id=d.id)


def address_out(a: CustomerAddress) -> dict[str, Any]:
    """An address as the API shows it."""
    return {
        "id": a.id,
        "name": a.name,
        "phone": a.phone,
        "phone_normalized": a.phone_normalized,
        "region": a.region,
        "region_code": a.region_code,
        "detail": a.detail,
        "postal_code": a.postal_code,
        "is_default": a.is_default,
        "source": a.source,
        "created_at": a.created_at,
        "updated_at": a.updated_at,
    }


def addresses_out(rows: Sequence[CustomerAddress]) -> list[dict[str, Any]]:
    """Addresses as the API shows them."""
    return [address_out(a) for a in rows]
