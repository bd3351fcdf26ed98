"""Load the demo shop once: catalogue, locally drawn product images (a small gallery each), an admin.

The campaigns (coupons, flash sales, group buy, distribution) are demo/campaigns.py's, loaded by
`fissionmall demo` right after this on the first run."""

from __future__ import annotations

from sqlalchemy import func, select

from fissionmall.accounts import service as accounts
from fissionmall.accounts.models import AdminUser
from fissionmall.catalog import service as catalog
from fissionmall.catalog.models import Product
from fissionmall.catalog.schemas import ProductCreate
from fissionmall.core.db import Database
from fissionmall.demo.catalogue import DETAILS, PRODUCTS
from fissionmall.demo.images import render_product_image
from fissionmall.settings import Settings

# What `fissionmall demo` sets when the environment does not: a 客服 contact for the shop's 联系客服 and a
# return address for 退货退款 approvals (both invented; a real shop sets its own, see README).
DEMO_ENV = {
    "FISSIONMALL_SERVICE_PHONE": "400-820-8820",
    "FISSIONMALL_SERVICE_WECHAT": "liebian-kefu",
    "FISSIONMALL_SERVICE_HOURS": "每天 9:00-21:00",
    "FISSIONMALL_RETURN_ADDRESS": "上海市 浦东新区 世纪大道 100 号 裂变商城售后部（收）400-820-8820",
}


async def load_demo(settings: Settings, *, admin_password: str) -> bool:
    """Returns True when it created the admin (first run), False when the demo was already there."""
    db = Database(settings.db_url)
    try:
        async with db.tx() as s:
            if await s.scalar(select(AdminUser.id).where(AdminUser.username == "admin")) is not None:
                return False
            await accounts.create_admin(s, username="admin", password=admin_password, role="owner")
            if await s.scalar(select(func.count()).select_from(Product)):
                return True
            media = settings.media_dir / "products"
            for i, p in enumerate(PRODUCTS, start=1):
                images = []
                for v in range(2 + i % 2):  # two or three pictures: a gallery
                    name = f"demo-{i:02d}-{v + 1}.png"
                    render_product_image(media / name, category=p["category"], seed=i, variant=(i + v) % 3)
                    images.append(f"/media/products/{name}")
                fields = dict(p)
                if p["title"] in DETAILS:  # 图文详情: a heading, paragraphs and the last picture of the gallery
                    head, *paras = DETAILS[p["title"]]
                    body = "".join(f"<p>{x}</p>" for x in paras)
                    fields["detail_html"] = f'<h3>{head}</h3>{body}<p><img src="{images[-1]}" alt=""></p>'
                data = ProductCreate.model_validate({**fields, "images": images})
                await catalog.create_product(s, data=data)
        return True
    finally:
        await db.dispose()
