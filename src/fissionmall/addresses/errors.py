"""The address book's refusals."""

from __future__ import annotations

from fissionmall.core.errors import ErrorCode


class AddressesError(ErrorCode):
    ADDRESS_NOT_FOUND = "ADDRESS_NOT_FOUND", "该地址已不存在", 404
    ADDRESS_BOOK_FULL = "ADDRESS_BOOK_FULL", "地址簿已满，请先删除不用的地址", 409
    ADDRESS_DEFAULT_REQUIRED = "ADDRESS_DEFAULT_REQUIRED", "请先把其他地址设为默认", 409
    ADDRESS_REQUIRED = "ADDRESS_REQUIRED", "请填写收货地址"
    REGION_UNKNOWN = "REGION_UNKNOWN", "请选择到区/县一级的所在地区", 422
