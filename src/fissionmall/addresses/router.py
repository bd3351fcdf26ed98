"""The shopper's address book: /api/v1/me/addresses, and the region table its picker reads (/api/v1/regions)."""

from __future__ import annotations

import gzip
import hashlib
import json
from functools import cache
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response
from pydantic import ValidationError

from fissionmall.accounts.deps import CurrentCustomer
from fissionmall.addresses import rules, service, state
from fissionmall.addresses.errors import AddressesError
from fissionmall.addresses.schemas import (
    AddressBook,
    AddressCreate,
    AddressPublic,
    AddressUpdate,
    RegionPublic,
    RegionTree,
    WechatAddressCreate,
)
from fissionmall.core import regions
from fissionmall.core.deps import DbDep
from fissionmall.core.errors import AppError
from fissionmall.core.schemas import IdPath

router = APIRouter(tags=["addresses"])

# The table changes with a release at most (NBS publishes once a year): a week in any cache, and the ETag
# (the content's hash, also the `version` the shop keeps beside its localStorage copy) makes a reload free.
REGIONS_MAX_AGE = 7 * 86400


@cache
def _regions_body() -> tuple[bytes, bytes, str]:
    tree = regions.tree()
    version = hashlib.sha256(json.dumps(tree, ensure_ascii=False).encode()).hexdigest()[:16]
    body = json.dumps({"version": version, "regions": tree}, ensure_ascii=False, separators=(",", ":")).encode()
    return body, gzip.compress(body, 9, mtime=0), f'"{version}"'


@router.get("/regions", response_model=RegionTree)
async def region_tree(request: Request) -> Response:
    """The whole 省/市/区 table in one compact, cacheable answer (no login): `regions` is
    `[[code, name, [[code, name, [[code, name], …]], …]], …]`. One request (about 27 KB gzipped) lets the
    picker's three columns answer every tap at once; 304 on a matching If-None-Match."""
    body, zipped, etag = _regions_body()
    headers = {"Cache-Control": f"public, max-age={REGIONS_MAX_AGE}", "ETag": etag, "Vary": "Accept-Encoding"}
    if etag in {t.strip() for t in request.headers.get("if-none-match", "").split(",")}:
        return Response(status_code=304, headers=headers)
    if "gzip" in request.headers.get("accept-encoding", ""):
        return Response(zipped, media_type="application/json", headers={**headers, "Content-Encoding": "gzip"})
    return Response(body, media_type="application/json", headers=headers)


RegionCodePath = Annotated[str, Path(pattern=r"^[0-9]{6,12}$")]


@router.get("/regions/{code}/children", response_model=list[RegionPublic])
async def region_children(code: RegionCodePath, response: Response) -> list[dict[str, Any]]:
    """One level of the table under `code` (a picker that loads column by column, e.g. a mini-program's
    multiSelector); `000000` gives the provinces. `deliverable` says whether an address may stop there."""
    parent = None if code == "000000" else code
    if parent is not None and regions.get(parent) is None:
        raise AppError(AddressesError.REGION_UNKNOWN, region_code=code)
    response.headers["Cache-Control"] = f"public, max-age={REGIONS_MAX_AGE}"
    return [
        {"code": r.code, "name": r.name, "level": r.level, "deliverable": rules.deliverable(r.code)}
        for r in regions.children(parent)
    ]


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
