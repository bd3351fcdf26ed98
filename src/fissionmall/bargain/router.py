"""Bargaining over HTTP: thin handlers over the workflow modules (activities, bargains, buying, views)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from fissionmall.accounts.deps import Admin, Caller, CurrentCustomer, MaybeCustomer, require
from fissionmall.bargain import activities, bargains, buying, rules, views
from fissionmall.bargain.schemas import (
    ActivityAdmin,
    ActivityCardPublic,
    ActivityCreate,
    ActivityPublic,
    ActivityUpdate,
    BargainAdmin,
    BargainOrderCreate,
    BargainOrderPublic,
    BargainPreviewPublic,
    BargainPublic,
    FunnelAdmin,
    HelpedPublic,
    MyBargainPublic,
    RulesCheck,
    RulesCheckAdmin,
    SharePublic,
    StartedPublic,
)
from fissionmall.checkout.service import check_order_rate
from fissionmall.core.deps import Cursor, DbDep, IdemKey, Limit, SettingsDep
from fissionmall.core.idempotency import run_once
from fissionmall.core.schemas import IdPath, Page, page_limit, parse_cursor
from fissionmall.orders import reports
from fissionmall.risk import ask
from fissionmall.risk import service as risk
from fissionmall.risk.decisions import ALLOW, Action, Outcome
from fissionmall.settings import Settings

router = APIRouter(tags=["bargain"])
admin_router = APIRouter(tags=["admin: bargain"])

Marketing = Annotated[Admin, Depends(require("marketing"))]
MarketingRead = Annotated[Admin, Depends(require("marketing.read"))]
StatusQ = Annotated[str | None, Query(pattern="^(" + "|".join(rules.STATUSES) + ")$")]
ProductQ = Annotated[int | None, Query(ge=1, le=2**62)]

SAMPLE_SEED = 20261206  # the editor's sample bargain: one fixed seed, so the same figures show the same cuts


def _who(caller: Caller) -> bargains.Who:
    return bargains.Who(id=caller.id, ip=caller.ip, device_id=caller.device_id)


def _base(request: Request, settings: Settings) -> str | None:
    # Dev on the default base URL: links point back at the host that served this request (local demos).
    if settings.dev and settings.base_url == Settings.model_fields["base_url"].default:
        return str(request.base_url)
    return None


# ---- shop ----------------------------------------------------------------------------------------


@router.get("/bargain/activities", response_model=list[ActivityCardPublic])
async def live_activities(db: DbDep, product_id: ProductQ = None) -> Any:
    """Live bargaining activities (of one product with `product_id`) with their products' cards: the home
    page's 砍价 row and the product page's entry."""
    async with db.read() as s:
        rows, _ = await activities.list_activities(s, product_id=product_id, live_only=True, limit=20)
        return await views.activity_cards(s, activities=rows)


@router.get("/bargain/me/bargains", response_model=list[MyBargainPublic])
async def my_bargains(caller: CurrentCustomer, db: DbDep) -> Any:
    """我的砍价: the caller's bargains, newest first."""
    async with db.read() as s:
        return await views.my_bargains(s, customer_id=caller.id)


@router.get("/bargain/activities/{activity_id}", response_model=ActivityCardPublic)
async def activity(activity_id: IdPath, db: DbDep) -> Any:
    """One activity with its product's card (404 once it is closed)."""
    async with db.read() as s:
        act = await activities.get_activity(s, activity_id=activity_id, for_sale=True)
        cards = await views.activity_cards(s, activities=[act])
        return cards[0] if cards else ActivityPublic.model_validate(act).model_dump()


@router.post("/bargain/activities/{activity_id}/start", response_model=StartedPublic, status_code=201)
async def start(activity_id: IdPath, caller: CurrentCustomer, db: DbDep) -> Any:
    """发起砍价: the caller's bargain at the start price, with its deadline (the risk layer asked first)."""
    await ask.guard(db, action=Action.BARGAIN_START, subject=ask.subject_of(caller), facts={"activity_id": activity_id})
    async with db.tx() as s:
        b = await bargains.start(s, activity_id=activity_id, who=_who(caller))
        return {"bargain_id": b.id, "price_fen": b.price_fen, "target_fen": b.target_fen, "expires_at": b.expires_at}


@router.get("/bargain/{bargain_id}", response_model=BargainPublic)
async def bargain(bargain_id: IdPath, db: DbDep, caller: MaybeCustomer) -> Any:
    """The share page: price, target, progress, helpers' nicknames and cuts, countdown, what the caller may do."""
    async with db.read() as s:
        b = await bargains.get_bargain(s, bargain_id=bargain_id)
        return await views.bargain_view(s, bargain=b, caller_id=caller.id if caller else None)


@router.post("/bargain/{bargain_id}/help", response_model=HelpedPublic)
async def help_bargain(bargain_id: IdPath, caller: CurrentCustomer, db: DbDep) -> Any:
    """帮TA砍一刀: a friend's cut (once per friend, never the starter's own), through the help gate and the
    risk layer (a degraded help cuts the least the bargain allows)."""
    lim = await risk.help_limits(db)
    verdict = ALLOW
    if ask.enabled():
        async with db.read() as s:
            starter = (await bargains.get_bargain(s, bargain_id=bargain_id)).customer_id
            has_paid = not await reports.is_new_customer(s, customer_id=caller.id)
        verdict = await ask.guard(
            db,
            action=Action.BARGAIN_HELP,
            subject=ask.subject_of(caller),
            facts={"bargain_id": bargain_id, "starter_id": starter, "has_paid": has_paid},
        )
    async with db.tx() as s:
        return await bargains.help_bargain(
            s, bargain_id=bargain_id, who=_who(caller), lim=lim, least=verdict.outcome is Outcome.DEGRADE
        )


@router.post("/bargain/{bargain_id}/preview", response_model=BargainPreviewPublic)
async def order_preview(
    bargain_id: IdPath,
    caller: CurrentCustomer,
    db: DbDep,
    settings: SettingsDep,
    body: BargainOrderCreate | None = None,
) -> Any:
    """The order's price chain before paying, as POST /bargain/{id}/order will charge it."""
    body = body or BargainOrderCreate()
    async with db.read() as s:
        return await buying.preview(s, bargain_id=bargain_id, customer_id=caller.id, body=body, settings=settings)


@router.post("/bargain/{bargain_id}/order", response_model=BargainOrderPublic, status_code=201)
async def order(
    bargain_id: IdPath,
    caller: CurrentCustomer,
    db: DbDep,
    settings: SettingsDep,
    body: BargainOrderCreate | None = None,
    idempotency_key: IdemKey = None,
) -> Any:
    """Order the bargain at its price (the target, or the price so far where the activity allows): once. The
    body is optional: without one the order ships to the shopper's default address."""
    body = body or BargainOrderCreate()
    await check_order_rate(caller.id, settings)

    async def work(s: Any) -> dict[str, Any]:
        b, o = await buying.place_order(
            s,
            bargain_id=bargain_id,
            customer_id=caller.id,
            body=body,
            settings=settings,
            attribution={"ip": caller.ip, "device_id": caller.device_id},
        )
        return BargainOrderPublic.model_validate({"bargain_id": b.id, "order": o}).model_dump(mode="json")

    return await run_once(
        db,
        scope=f"bargain-order:{bargain_id}",
        owner=str(caller.id),
        key=idempotency_key,
        body=body.model_dump(mode="json"),
        work=work,
    )


@router.get("/bargain/{bargain_id}/share", response_model=SharePublic)
async def share(bargain_id: IdPath, request: Request, caller: CurrentCustomer, db: DbDep, settings: SettingsDep) -> Any:
    """The share link, QR code and poster of the caller's bargain (帮我砍一刀)."""
    async with db.read() as s:
        b = await bargains.get_bargain(s, bargain_id=bargain_id)
        return await views.share(s, bargain=b, settings=settings, base_url=_base(request, settings))


# ---- admin ---------------------------------------------------------------------------------------


@admin_router.get("/bargain/activities", response_model=Page[ActivityAdmin])
async def admin_activities(
    _: MarketingRead, db: DbDep, product_id: ProductQ = None, limit: Limit = None, cursor: Cursor = None
) -> Page[Any]:
    async with db.read() as s:
        rows, nxt = await activities.list_activities(
            s, product_id=product_id, before_id=parse_cursor(cursor), limit=page_limit(limit)
        )
        return Page(items=[ActivityAdmin.model_validate(a) for a in rows], next_cursor=nxt)


@admin_router.post("/bargain/activities", response_model=ActivityAdmin, status_code=201)
async def admin_create_activity(body: ActivityCreate, _: Marketing, db: DbDep) -> Any:
    async with db.tx() as s:
        return await activities.create_activity(s, data=body)


@admin_router.post("/bargain/rules-check", response_model=RulesCheckAdmin)
async def admin_rules_check(body: RulesCheck, _: MarketingRead) -> dict[str, Any]:
    """The editor's live check: can these figures reach the target in exactly N helps within the bounds?
    With a sample bargain's cuts when they can."""
    given: dict[str, Any] = {
        "start_fen": body.start_fen,
        "target_fen": body.target_fen,
        "helpers": body.helpers_needed,
        "min_cut": body.min_cut_fen,
        "max_cut": body.max_cut_fen,
    }
    code = rules.config_refusal(**given)
    if code is not None:
        return {"ok": False, "code": code.value, "message": rules.refusal_text(code, **given), "sample_cuts": []}
    cuts = rules.plan_cuts(
        start_fen=body.start_fen,
        target_fen=body.target_fen,
        helpers=body.helpers_needed,
        min_cut=body.min_cut_fen,
        max_cut=body.max_cut_fen,
        seed=SAMPLE_SEED,
    )
    return {
        "ok": True,
        "code": None,
        "message": f"可以：{body.helpers_needed} 位好友助力后正好砍到底价",
        "sample_cuts": cuts,
    }


@admin_router.get("/bargain/activities/{activity_id}", response_model=ActivityAdmin)
async def admin_activity(activity_id: IdPath, _: MarketingRead, db: DbDep) -> Any:
    async with db.read() as s:
        return await activities.get_activity(s, activity_id=activity_id)


@admin_router.put("/bargain/activities/{activity_id}", response_model=ActivityAdmin)
async def admin_update_activity(activity_id: IdPath, body: ActivityUpdate, _: Marketing, db: DbDep) -> Any:
    async with db.tx() as s:
        return await activities.update_activity(s, activity_id=activity_id, data=body)


@admin_router.delete("/bargain/activities/{activity_id}", response_model=ActivityAdmin)
async def admin_close_activity(activity_id: IdPath, _: Marketing, db: DbDep) -> Any:
    """Close an activity: no new bargains, the free stock back to the SKU; bargains under way run on."""
    async with db.tx() as s:
        return await activities.close_activity(s, activity_id=activity_id)


@admin_router.get("/bargain/activities/{activity_id}/funnel", response_model=FunnelAdmin)
async def admin_funnel(activity_id: IdPath, _: MarketingRead, db: DbDep) -> Any:
    """started → helped → reached → ordered → paid, and the cost per new shopper who helped."""
    async with db.read() as s:
        await activities.get_activity(s, activity_id=activity_id)
        return await views.funnel(s, activity_id=activity_id)


@admin_router.get("/bargain/bargains", response_model=Page[BargainAdmin])
async def admin_bargains(
    _: MarketingRead,
    db: DbDep,
    status: StatusQ = None,
    activity_id: ProductQ = None,
    limit: Limit = None,
    cursor: Cursor = None,
) -> Page[Any]:
    async with db.read() as s:
        rows, nxt = await views.list_bargains(
            s, activity_id=activity_id, status=status, before_id=parse_cursor(cursor), limit=page_limit(limit)
        )
        return Page(items=[BargainAdmin.model_validate(b) for b in rows], next_cursor=nxt)


@admin_router.get("/bargain/bargains/{bargain_id}", response_model=BargainAdmin)
async def admin_bargain(bargain_id: IdPath, _: MarketingRead, db: DbDep) -> Any:
    async with db.read() as s:
        return await bargains.get_bargain(s, bargain_id=bargain_id)
