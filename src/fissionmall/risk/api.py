"""The risk layer's admin API: the rulebook (CRUD, preview), decisions, the review queue, credit, lists."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Response

from fissionmall.accounts.deps import Admin, current_admin, require
from fissionmall.accounts.rules import allowed
from fissionmall.core.deps import Cursor, DbDep, Limit
from fissionmall.core.errors import CoreError, Forbidden
from fissionmall.core.schemas import IdPath, Page, page_limit, parse_cursor
from fissionmall.risk import credit, engine, reviews, rulestore
from fissionmall.risk.schemas import (
    CreditAdmin,
    CreditUpdate,
    DecisionAdmin,
    ListEntryAdmin,
    ListEntryCreate,
    ReviewAdmin,
    ReviewDecide,
    RuleAdmin,
    RuleBody,
    RulePreview,
    RulePreviewBody,
)

router = APIRouter(tags=["admin: risk"])
Read = Annotated[Admin, Depends(require("marketing.read"))]
Write = Annotated[Admin, Depends(require("marketing"))]
CustomerQ = Annotated[int | None, Query(ge=1, le=2**62)]
ActionQ = Annotated[str | None, Query(max_length=32)]
OutcomeQ = Annotated[Literal["allow", "challenge", "degrade", "review", "deny"] | None, Query()]
StatusQ = Annotated[Literal["pending", "released", "voided"] | None, Query()]
KindQ = Annotated[str | None, Query(max_length=24)]
# The review queue is the marketing team's (groups, orders) and finance's (withdrawals).
REVIEWERS = ("marketing", "withdrawals")


def _reviewer(admin: Annotated[Admin, Depends(current_admin)]) -> Admin:
    if not any(allowed(admin.role, p) for p in REVIEWERS):
        raise Forbidden(CoreError.PERMISSION_DENIED)
    return admin


Reviewer = Annotated[Admin, Depends(_reviewer)]


@router.get("/risk/rules", response_model=list[RuleAdmin])
async def list_rules(_: Read, db: DbDep) -> Any:
    """The rulebook in the order it is judged (the seeded defaults until the merchant changes them)."""
    return await rulestore.list_rules(db)


@router.post("/risk/rules", response_model=RuleAdmin, status_code=201)
async def create_rule(body: RuleBody, _: Write, db: DbDep) -> Any:
    """A new rule: a malformed condition is 422 RULE_INVALID with its `position`; a rule that would refuse
    every shopper is 422 RULE_DENIES_EVERYONE unless `confirm` is true."""
    return await rulestore.save_rule(db, body=body.model_dump())


@router.post("/risk/rules/preview", response_model=RulePreview)
async def preview_rule(body: RulePreviewBody, _: Read, db: DbDep) -> Any:
    """What a rule would have done to the last 24 h of decisions."""
    data = {**body.model_dump(), "name": "preview", "label": "preview", "penalty": 0}
    return await rulestore.preview(db, body=data)


@router.get("/risk/rules/{rule_id}", response_model=RuleAdmin)
async def get_rule(rule_id: IdPath, _: Read, db: DbDep) -> Any:
    """One rule."""
    return await rulestore.get_rule(db, rule_id=rule_id)


@router.put("/risk/rules/{rule_id}", response_model=RuleAdmin)
async def put_rule(rule_id: IdPath, body: RuleBody, _: Write, db: DbDep) -> Any:
    """Replace a rule (checked like a new one)."""
    return await rulestore.save_rule(db, body=body.model_dump(), rule_id=rule_id)


@router.delete("/risk/rules/{rule_id}", status_code=204)
async def delete_rule(rule_id: IdPath, _: Write, db: DbDep) -> Response:
    """Remove a rule."""
    await rulestore.delete_rule(db, rule_id=rule_id)
    return Response(status_code=204)


@router.get("/risk/decisions", response_model=Page[DecisionAdmin])
async def list_decisions(
    _: Read,
    db: DbDep,
    customer_id: CustomerQ = None,
    action: ActionQ = None,
    outcome: OutcomeQ = None,
    limit: Limit = None,
    cursor: Cursor = None,
) -> Page[Any]:
    """Decisions newest first, with the reasons (rule names) and the facts the rules saw."""
    n = page_limit(limit, default=50)
    rows = await rulestore.decisions(
        db, customer_id=customer_id, action=action, outcome=outcome, before=parse_cursor(cursor), limit=n
    )
    nxt = str(rows[-1].id) if len(rows) == n else None
    return Page(items=[DecisionAdmin.model_validate(r) for r in rows], next_cursor=nxt)


@router.get("/risk/reviews", response_model=Page[ReviewAdmin])
async def list_reviews(
    _: Reviewer, db: DbDep, status: StatusQ = None, kind: KindQ = None, limit: Limit = None, cursor: Cursor = None
) -> Page[Any]:
    """The review queue, newest first: held withdrawals, suspicious groups and orders."""
    n = page_limit(limit, default=50)
    rows = await reviews.list_reviews(db, status=status, kind=kind, before=parse_cursor(cursor), limit=n)
    nxt = str(rows[-1].id) if len(rows) == n else None
    return Page(items=[ReviewAdmin.model_validate(reviews.public(r)) for r in rows], next_cursor=nxt)


@router.post("/risk/reviews/{review_id}/decide", response_model=ReviewAdmin)
async def decide_review(review_id: IdPath, body: ReviewDecide, admin: Reviewer, db: DbDep) -> Any:
    """Release or void a held benefit, once: a second decision is 409 REVIEW_ALREADY_DECIDED."""
    row = await reviews.decide(
        db, review_id=review_id, decision=body.decision, admin_id=admin.id, admin_name=admin.username, note=body.note
    )
    return reviews.public(row)


@router.get("/risk/credit/{customer_id}", response_model=CreditAdmin)
async def get_credit(customer_id: IdPath, _: Read, db: DbDep) -> dict[str, Any]:
    """A shopper's credit score now (it recovers by itself) and whether the account is frozen."""
    score, frozen, note = await credit.read(db, customer_id=customer_id)
    return {"customer_id": customer_id, "score": score, "frozen": frozen, "note": note}


@router.put("/risk/credit/{customer_id}", response_model=CreditAdmin)
async def put_credit(customer_id: IdPath, body: CreditUpdate, _: Write, db: DbDep) -> dict[str, Any]:
    """Clear a shopper's score back to full and/or freeze or unfreeze their marketing participation."""
    await rulestore.customer_exists(db, customer_id=customer_id)
    await engine.set_credit(db, customer_id=customer_id, clear=body.clear, frozen=body.frozen, note=body.note)
    score, frozen, note = await credit.read(db, customer_id=customer_id)
    return {"customer_id": customer_id, "score": score, "frozen": frozen, "note": note}


@router.get("/risk/lists", response_model=list[ListEntryAdmin])
async def get_lists(_: Read, db: DbDep) -> Any:
    """The block and allow lists (newest 1000)."""
    return await rulestore.list_entries(db)


@router.post("/risk/lists", response_model=ListEntryAdmin, status_code=201)
async def add_list_entry(body: ListEntryCreate, _: Write, db: DbDep) -> Any:
    """Put a shopper, device, address, network (/24), phone or address hash on the block or allow list."""
    return await rulestore.add_entry(db, kind=body.kind, dim=body.dim, value=body.value, note=body.note)


@router.delete("/risk/lists/{entry_id}", status_code=204)
async def delete_list_entry(entry_id: IdPath, _: Write, db: DbDep) -> Response:
    """Take an entry off its list."""
    await rulestore.remove_entry(db, entry_id=entry_id)
    return Response(status_code=204)
