from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, Field, SerializerFunctionWrapHandler, StringConstraints, model_serializer

from fissionmall.catalog.rules import clean_detail_html
from fissionmall.core.media import MediaUrl
from fissionmall.core.schemas import ApiDateTime, ApiModel, Fen, Patch

# An image as products take it (API.md: "images[] of media ids or URLs"): a 素材库 id, or a /media/ URL.
# The service turns ids into their URLs (media.service.resolve_refs); the product stores URLs only.
MediaRef = Annotated[int, Field(ge=1, le=2**53)] | MediaUrl

Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
Stock = Annotated[int, Field(strict=True, ge=0, le=100_000_000)]
Label = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=16)]
# A dimension's name and value: short enough that three values joined ("红 / M / 长款") fit a SKU's name.
SpecText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=16)]
Code = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
Grams = Annotated[int, Field(strict=True, ge=0, le=1_000_000)]
DbId = Annotated[int, Field(strict=True, ge=1, le=2**53)]
# 图文详情 is stored as it will be shown: sanitised here, on the way in (rules.clean_detail_html).
DetailHtml = Annotated[str, StringConstraints(max_length=100_000), AfterValidator(clean_detail_html)]


class SpecDimension(ApiModel):
    name: SpecText
    values: Annotated[list[SpecText], Field(min_length=1, max_length=50)]


# Bounded for the schema; the rules refuse a fourth dimension with its own code.
Specs = Annotated[list[SpecDimension], Field(max_length=10)]


class SkuCreate(ApiModel):
    id: DbId | None = None  # set when editing an existing SKU
    name: Name | None = None  # required without specs; derived from the spec ("红 / M") when left out
    price_fen: Fen
    stock: Stock = 0
    list_price_fen: Fen | None = None  # 划线价: at least price_fen
    code: Code | None = None  # 商家编码, unique among the SKUs on sale
    weight_g: Grams | None = None
    spec: Annotated[dict[SpecText, SpecText], Field(max_length=10)] = {}  # {"颜色": "红", "尺码": "M"}


class ProductCreate(ApiModel):
    title: Title
    description: Annotated[str, StringConstraints(max_length=5000)] = ""
    detail_html: DetailHtml = ""
    specs: Specs = []
    shipping_template_id: DbId | None = None
    category: Name | None = None
    images: Annotated[list[MediaRef], Field(max_length=20)] = []
    labels: Annotated[list[Label], Field(max_length=10)] = []
    status: Annotated[str, Field(pattern="^(on_sale|off_sale)$")] = "on_sale"
    skus: Annotated[list[SkuCreate], Field(min_length=1, max_length=100)]


class ProductUpdate(ApiModel):
    """Every field optional. `skus`, when given, is the full list: SKUs left out are retired."""

    title: Patch[Title] = None
    description: Patch[Annotated[str, StringConstraints(max_length=5000)]] = None
    detail_html: Patch[DetailHtml] = None
    specs: Patch[Specs] = None  # [] drops the matrix (the SKUs then need names and no spec)
    shipping_template_id: DbId | None = None  # null: the shop's default template
    category: Name | None = None
    images: Patch[Annotated[list[MediaRef], Field(max_length=20)]] = None
    labels: Patch[Annotated[list[Label], Field(max_length=10)]] = None
    status: Patch[Annotated[str, Field(pattern="^(on_sale|off_sale)$")]] = None
    skus: Patch[Annotated[list[SkuCreate], Field(min_length=1, max_length=100)]] = None


class SkuFields(ApiModel):
    id: int
    name: str
    price_fen: int
    stock: int
    list_price_fen: int | None = None
    spec: dict[str, str] = {}


class SkuPublic(SkuFields):
    # A live 限时折扣 on this SKU (promotions fills them on the product page): one unit's price as checkout
    # charges it, and when the discount ends; None without one.
    limited_price_fen: int | None = None
    limited_ends_at: ApiDateTime | None = None

    @model_serializer(mode="wrap")
    def _only_when_discounted(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # a SKU without one keeps the exact shape API.md lists: the two keys appear only with a discount
        out: dict[str, Any] = handler(self)
        if self.limited_price_fen is None:
            out.pop("limited_price_fen", None)
            out.pop("limited_ends_at", None)
        return out


class SkuAdmin(SkuFields):
    sold: int
    is_active: bool
    code: str | None = None
    weight_g: int | None = None


class ProductPublic(ApiModel):
    id: int
    title: str
    description: str
    detail_html: str = ""
    specs: list[SpecDimension] = []
    category: str | None
    images: list[str]
    labels: list[str]
    price_fen: int  # the lowest SKU price, for list cards
    list_price_fen: int | None = None  # the 划线价 of a SKU at that price, if one has one
    sales: int
    skus: list[SkuPublic]
    promotions: list[dict[str, Any]] = []
    # 付费会员 (vip fills them): the lowest 会员价, each SKU's by id, and whether only members may buy it
    member_price_fen: int | None = None
    member_prices: dict[int, int] = {}
    member_only: bool = False


class ProductAdmin(ApiModel):
    id: int
    title: str
    description: str
    detail_html: str
    specs: list[SpecDimension]
    shipping_template_id: int | None
    category: str | None
    images: list[str]
    labels: list[str]
    status: str
    created_at: ApiDateTime
    updated_at: ApiDateTime
    skus: list[SkuAdmin]


class CategoryPublic(ApiModel):
    id: int
    name: str
