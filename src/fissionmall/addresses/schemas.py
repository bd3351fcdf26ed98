"""The one delivery-address shape: what an order stores, what the address book holds, what
`wx.chooseAddress` is turned into. Orders (orders/schemas.py), flash sales and group buying import it
from here, so a phone number or a region is judged the same way wherever it is sent."""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import AfterValidator, ConfigDict, Field, StringConstraints
from pydantic_core import PydanticCustomError

from fissionmall.addresses import rules
from fissionmall.core.schemas import ApiDateTime, ApiModel, Patch

Id = Annotated[int, Field(strict=True, ge=1, le=2**53)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
Region = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Detail = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
RegionCode = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[0-9]{2,12}$")]

# What shoppers type: digits with the usual decorations, e.g. 13800138000, +86 138 0013 8000,
# (020)81167888, 020-81167888, 020-81167888-123 (an extension). Full-width digits and brackets, which
# Chinese keyboards produce, are read as their ASCII twins.
_PHONE_CHARS = re.compile(r"^\+?[0-9()\- ]+$")
_FULL_WIDTH = str.maketrans("０１２３４５６７８９（）＋－　", "0123456789()+- ")
PHONE_MAX = 32


def normalize_phone(typed: str) -> str:
    """The digits of a phone number as one canonical string (for lookups and the courier's systems):
    `+86 138 0013 8000` → `13800138000`, `(020)81167888` → `02081167888`; a foreign number keeps its
    `+` and country code. Raises ValueError for what is not a phone number."""
    t = typed.translate(_FULL_WIDTH).strip()
    if not _PHONE_CHARS.match(t) or t.count("(") != t.count(")"):
        raise ValueError("not a phone number")
    digits = re.sub(r"[^0-9]", "", t)
    plus = t.startswith("+")
    if not plus and digits.startswith("0086"):
        plus, digits = True, digits[2:]
    if plus and digits.startswith("86"):
        plus, digits = False, digits[2:]  # mainland China: the national form is what couriers use
    if not 5 <= len(digits) <= 20:
        raise ValueError("not a phone number")
    return ("+" if plus else "") + digits


def _phone(v: str) -> str:
    try:
        normalize_phone(v)
    except ValueError:
        raise PydanticCustomError(
            "phone_invalid", "a phone number: digits, optionally with +, spaces, - and ( ), e.g. (020)81167888"
        ) from None
    return v.translate(_FULL_WIDTH).strip()


Phone = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=PHONE_MAX), AfterValidator(_phone)
]


class Address(ApiModel):
    """An inline delivery address (checkout, flash-sale attempt, group order). `phone` stays as the
    shopper typed it, for display; the order's copy adds `phone_normalized`."""

    name: Name
    phone: Phone
    region: Region
    detail: Detail
    region_code: RegionCode | None = None

    def snapshot(self, *, address_id: int | None = None) -> dict[str, Any]:
        """The copy an order keeps: editing or deleting the address later never changes it."""
        out: dict[str, Any] = {
            "name": self.name,
            "phone": self.phone,
            "phone_normalized": normalize_phone(self.phone),
            "region": self.region,
            "detail": self.detail,
        }
        if self.region_code:
            out["region_code"] = self.region_code
        if address_id is not None:
            out["address_id"] = address_id
        return out


class AddressCreate(Address):
    postal_code: Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[0-9]{0,10}$")] | None = None
    is_default: bool = False


class AddressUpdate(ApiModel):
    name: Patch[Name] = None
    phone: Patch[Phone] = None
    region: Patch[Region] = None
    detail: Patch[Detail] = None
    region_code: RegionCode | None = None  # null clears it
    postal_code: Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[0-9]{0,10}$")] | None = None
    # true makes it the default (the old default stops being one); false is refused on the default
    # address: make another one the default instead.
    is_default: Patch[bool] = None


WxText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]


class WechatAddressCreate(ApiModel):
    """A `wx.chooseAddress` success result exactly as WeChat hands it to the mini-program. Keys WeChat
    adds over time (`errMsg`, `detailInfoNew`, …) are accepted and not stored; `nationalCode` (when the
    table holds it) or else the names give the address its `region_code`."""

    model_config = ConfigDict(from_attributes=True, extra="ignore")

    userName: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
    telNumber: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=PHONE_MAX)]
    provinceName: WxText
    cityName: WxText
    countyName: WxText = ""
    streetName: WxText = ""
    detailInfo: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    postalCode: Annotated[str, StringConstraints(strip_whitespace=True, max_length=10)] = ""
    errMsg: Annotated[str, StringConstraints(max_length=200)] | None = None
    nationalCode: Annotated[str, StringConstraints(max_length=20)] | None = None
    is_default: bool = False

    def to_address(self) -> AddressCreate:
        """Province, city and county as one region ("广东省 广州市 海珠区"; a municipality's repeated name
        once: "北京市 朝阳区"); the street (where the newer picker gives one) leads the detail unless the
        detail already starts with it."""
        parts: list[str] = []
        for p in (self.provinceName, self.cityName, self.countyName):
            if p and p not in parts:
                parts.append(p)
        detail = self.detailInfo
        if self.streetName and not detail.startswith(self.streetName):
            detail = f"{self.streetName}{detail}"
        postal = self.postalCode if re.fullmatch(r"[0-9]{1,10}", self.postalCode or "") else None
        return AddressCreate.model_validate(
            {
                "name": self.userName,
                "phone": self.telNumber,
                "region": " ".join(parts),
                "region_code": rules.wechat_code(
                    province=self.provinceName,
                    city=self.cityName,
                    county=self.countyName,
                    national_code=self.nationalCode,
                ),
                "detail": detail[:200],
                "postal_code": postal,
                "is_default": self.is_default,
            }
        )


class AddressPublic(ApiModel):
    id: int
    name: str
    phone: str
    phone_normalized: str
    region: str
    region_code: str | None
    detail: str
    postal_code: str | None
    is_default: bool
    source: str
    created_at: ApiDateTime
    updated_at: ApiDateTime


class RegionPublic(ApiModel):
    code: str
    name: str
    level: int
    deliverable: bool


class RegionTree(ApiModel):
    version: str
    regions: list[Any]


class AddressBook(ApiModel):
    items: list[AddressPublic]
    limit: int


def one_address(body: Any) -> Any:
    """A body names its address inline or by `address_id`, not both (the model validator of every order body)."""
    if body.address is not None and body.address_id is not None:
        raise ValueError("send an inline address or an address_id, not both")
    return body
