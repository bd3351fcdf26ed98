"""The shopper's address book: /api/v1/me/addresses."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from pydantic import ValidationError

from fissionmall.accounts.deps import CurrentCustomer
from fissionmall.addresses import service, state
from fissionmall.addresses.schemas import AddressBook, AddressCreate, AddressPublic, AddressUpdate, WechatAddressCreate
from fissionmall.core.deps import DbDep
from fissionmall.core.schemas import IdPath

router = APIRouter(tags=["addresses"])


@router.get("/me/addresses", response_model=AddressBook)
async def list_addresses(caller: CurrentCustomer, db: DbDep) -> dict[str, Any]:
    """The shopper's addresses, the default first (at most `limit` of them: the book holds no more)."""
    async with db.read() as s:
        rows = await service.list_addresses(s, customer_id=caller.id)
    return {"items": service.addresses_out(rows), "limit": service.MAX_ADDRESSES}


@router.post("/me/addresses", response_model=AddressPublic, status_code=201)
async def create_address(body: AddressCreate, caller: CurrentCustomer, db: DbDep) -> dict[str, Any]:
    """Add an address; the first one, or one sent with `is_default: true`, becomes the default.
    409 ADDRESS_BOOK_FULL past the cap."""
    async with db.tx() as s:
        a = service.address_out(await service.create_address(s, customer_id=caller.id, body=body))
    state.remember(caller.id, True)
    return a


@router.post("/me/addresses/wechat", response_model=AddressPublic, status_code=201)
async def create_from_wechat(body: WechatAddressCreate, caller: CurrentCustomer, db: DbDep) -> dict[str, Any]:
    """Store the result of `wx.chooseAddress` as WeChat returns it (userName, telNumber, provinceName,
    cityName, countyName, streetName, detailInfo, postalCode; errMsg, nationalCode and any other key are
    accepted and ignored)."""
    try:
        addr = body.to_address()
    except ValidationError as exc:
        raise service.validation_error(exc) from None
    async with db.tx() as s:
        a = service.address_out(await service.create_address(s, customer_id=caller.id, body=addr, source="wechat"))
    state.remember(caller.id, True)
    return a


@router.put("/me/addresses/{address_id}", response_model=AddressPublic)
async def update_address(address_id: IdPath, body: AddressUpdate, caller: CurrentCustomer, db: DbDep) -> dict[str, Any]:
    """Edit an address; `is_default: true` makes it the default (the old one stops being it)."""
    async with db.tx() as s:
        a = await service.update_address(s, customer_id=caller.id, address_id=address_id, body=body)
        return service.address_out(a)


@router.delete("/me/addresses/{address_id}", status_code=204)
async def delete_address(address_id: IdPath, caller: CurrentCustomer, db: DbDep) -> Response:
    """Delete an address (orders keep their own copy). Deleting the default makes the most recently
    created or edited other address the default."""
    async with db.tx() as s:
        await service.delete_address(s, customer_id=caller.id, address_id=address_id)
        left = await service.default_address(s, customer_id=caller.id)
    state.remember(caller.id, left is not None)
    return Response(status_code=204)
