"""CRUD /api/admin/v1/shipping/templates (运费模板): staff with the catalogue permission."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response

from fissionmall.accounts.deps import Admin, require
from fissionmall.core.deps import DbDep
from fissionmall.core.schemas import IdPath
from fissionmall.shipping import service
from fissionmall.shipping.schemas import TemplateAdmin, TemplateCreate, TemplateUpdate

admin_router = APIRouter(tags=["admin: shipping"])

# Templates price the catalogue's products: whoever edits products edits their shipping.
ShippingWrite = Annotated[Admin, Depends(require("catalog"))]
ShippingRead = Annotated[Admin, Depends(require("catalog.read"))]


@admin_router.get("/shipping/templates", response_model=list[TemplateAdmin])
async def list_templates(_: ShippingRead, db: DbDep) -> list[TemplateAdmin]:
    """Every template, the default first."""
    async with db.read() as s:
        return [await service.to_admin(s, t=t) for t in await service.list_templates(s)]


@admin_router.post("/shipping/templates", response_model=TemplateAdmin, status_code=201)
async def create_template(body: TemplateCreate, _: ShippingWrite, db: DbDep) -> TemplateAdmin:
    async with db.tx() as s:
        t = await service.create_template(s, data=body)
        return await service.to_admin(s, t=t)


@admin_router.get("/shipping/templates/{template_id}", response_model=TemplateAdmin)
async def get_template(template_id: IdPath, _: ShippingRead, db: DbDep) -> TemplateAdmin:
    async with db.read() as s:
        return await service.to_admin(s, t=await service.get_template(s, template_id=template_id))


@admin_router.put("/shipping/templates/{template_id}", response_model=TemplateAdmin)
async def update_template(template_id: IdPath, body: TemplateUpdate, _: ShippingWrite, db: DbDep) -> TemplateAdmin:
    async with db.tx() as s:
        t = await service.update_template(s, template_id=template_id, data=body)
        return await service.to_admin(s, t=t)


@admin_router.delete("/shipping/templates/{template_id}", status_code=204)
async def delete_template(template_id: IdPath, _: ShippingWrite, db: DbDep) -> Response:
    async with db.tx() as s:
        await service.delete_template(s, template_id=template_id)
    return Response(status_code=204)
