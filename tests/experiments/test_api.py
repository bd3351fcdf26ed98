"""The experiments admin API: who may call it, and bad input refused with 4xx codes (never a 500)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.authz import check_admin_matrix
from tests.experiments.helpers import body, experiment
from tests.helpers import admin, product, shopper
from tests.platform.test_bad_input import snapshot
from tests.pricing.helpers import iso, promotion, template

E = "/api/admin/v1/experiments"
ADMIN_ROUTES: list[tuple[str, str, dict[str, Any] | None, str, str]] = [
    ("GET", E, None, "marketing.read", "store_staff"),
    ("POST", E, {"name": "x", "arms": [], "starts_at": "", "ends_at": ""}, "marketing", "finance"),
    ("GET", E + "/{experiment_id}", None, "marketing.read", "store_staff"),
    ("PUT", E + "/{experiment_id}", {"name": "改名"}, "marketing", "finance"),
    ("DELETE", E + "/{experiment_id}", None, "marketing", "finance"),
    ("GET", E + "/{experiment_id}/results", None, "marketing.read", "finance"),
    ("POST", E + "/{experiment_id}/keep-winner", {"arm_id": 1}, "marketing", "finance"),
]


@pytest.fixture
async def world(client, db):
    boss = await admin(client, db)
    p1 = await promotion(
        client, boss, kind="full_reduction", name="满100减20", tiers=[{"threshold": 10000, "amount_fen": 2000}]
    )
    p2 = await promotion(client, boss, kind="free_shipping", name="包邮", threshold=0)
    exp = await experiment(client, boss, **body([[p1["id"]], [p2["id"]]]))
    return {"boss": boss, "p1": p1, "p2": p2, "exp": exp, "ids": {"experiment_id": exp["id"]}}


async def test_experiment_routes_refuse_whoever_lacks_the_permission(client, db, world):
    me = await shopper(client, "matrix-shopper")
    before = await snapshot(db)
    await check_admin_matrix(client, db, ADMIN_ROUTES, world["ids"], me)
    after = await snapshot(db)
    for table in ("experiments", "experiment_arms", "experiment_exposures", "promotions"):
        assert after[table] == before[table]
    # The operator (marketing) reads and edits; the finance role reads nothing.
    op = await admin(client, db, "operator", username="op2")
    assert (await client.get(f"{E}/{world['exp']['id']}/results", headers=op)).status_code == 200
    assert (await client.put(f"{E}/{world['exp']['id']}", json={"name": "新名"}, headers=op)).status_code == 200


async def test_the_crud_round_trip(client, db, world):
    boss, exp = world["boss"], world["exp"]
    got = (await client.get(f"{E}/{exp['id']}", headers=boss)).json()
    assert got["arms"][0]["plan"] == {"promotion_ids": [world["p1"]["id"]], "coupon_template_ids": []}
    assert got["running"] is True and got["coverage_bp"] == 10_000
    page = (await client.get(E, headers=boss)).json()
    assert [e["id"] for e in page["items"]] == [exp["id"]]
    # The same promotion cannot be in a second running test.
    r = await client.post(E, json=body([[world["p1"]["id"]], []]), headers=boss)
    assert r.status_code == 409 and r.json()["error"]["code"] == "PLAN_IN_OTHER_EXPERIMENT"
    r = await client.delete(f"{E}/{exp['id']}", headers=boss)
    assert r.status_code == 204
    assert (await client.get(f"{E}/{exp['id']}", headers=boss)).status_code == 404


def _bad(p1: int, tpl: int) -> list[tuple[str, dict[str, Any], int, str]]:
    ok = body([[p1], []])
    arms = ok["arms"]
    return [
        ("one arm", {**ok, "arms": arms[:1]}, 422, "VALIDATION_ERROR"),
        ("seven arms", {**ok, "arms": [{**arms[1], "name": f"n{i}"} for i in range(7)]}, 422, "VALIDATION_ERROR"),
        ("zero weight", {**ok, "arms": [{**arms[0], "weight": 0}, arms[1]]}, 422, "VALIDATION_ERROR"),
        ("string weight", {**ok, "arms": [{**arms[0], "weight": "1"}, arms[1]]}, 422, "VALIDATION_ERROR"),
        ("huge weight", {**ok, "arms": [{**arms[0], "weight": 2**63}, arms[1]]}, 422, "VALIDATION_ERROR"),
        ("same names", {**ok, "arms": [arms[0], {**arms[1], "name": arms[0]["name"]}]}, 422, "ARMS_INVALID"),
        ("two controls", {**ok, "arms": [{**a, "control": True} for a in arms]}, 422, "ARMS_INVALID"),
        ("ends before start", {**ok, "ends_at": iso(-2)}, 422, "EXPERIMENT_WINDOW_INVALID"),
        ("year 9999", {**ok, "ends_at": "9999-12-31T00:00:00+00:00"}, 422, "VALIDATION_ERROR"),
        ("no offset", {**ok, "starts_at": "2026-01-01T00:00:00"}, 422, "VALIDATION_ERROR"),
        ("coverage over 100%", {**ok, "coverage_bp": 10_001}, 422, "VALIDATION_ERROR"),
        ("tiny min sample", {**ok, "min_sample": 1}, 422, "VALIDATION_ERROR"),
        ("a missing promotion", body([[p1], [999_999]]), 422, "PLAN_PROMOTION_NOT_FOUND"),
        (
            "a missing template",
            {**ok, "arms": [arms[0], {**arms[1], "plan": {"coupon_template_ids": [999]}}]},
            422,
            "PLAN_TEMPLATE_NOT_FOUND",
        ),
        ("one promotion in two arms", body([[p1], [p1]]), 422, "PLAN_DUPLICATE"),
        ("a missing product", {**ok, "product_id": 999_999}, 422, "EXPERIMENT_PRODUCT_NOT_FOUND"),
        ("an unknown field", {**ok, "verdict": "B"}, 422, "VALIDATION_ERROR"),
        ("a NUL in the name", {**ok, "name": "a\u0000b"}, 422, "VALIDATION_ERROR"),
        ("a null arm list", {**ok, "arms": None}, 422, "VALIDATION_ERROR"),
        (
            "a template used twice",
            {**ok, "arms": [{**a, "plan": {"coupon_template_ids": [tpl]}} for a in arms]},
            422,
            "PLAN_DUPLICATE",
        ),
    ]


async def test_bad_input_is_refused_with_a_code_and_writes_nothing(client, db):
    boss = await admin(client, db)
    await product(client, boss)
    p1 = await promotion(
        client, boss, kind="full_reduction", name="满100减20", tiers=[{"threshold": 10000, "amount_fen": 2000}]
    )
    tpl = await template(client, boss, issue_mode="operator")
    before = await snapshot(db)
    for why, b, status, code in _bad(p1["id"], tpl["id"]):
        r = await client.post(E, json=b, headers=boss)
        assert r.status_code == status and r.json()["error"]["code"] == code, (why, r.status_code, r.text)
    assert await snapshot(db) == before
    exp = await experiment(client, boss, **body([[p1["id"]], []]))
    eid = exp["id"]
    cases = [
        ("PUT", f"{E}/{eid}", {"name": None}, 422, "VALIDATION_ERROR"),
        ("PUT", f"{E}/{eid}", {"ends_at": iso(-3)}, 422, "EXPERIMENT_WINDOW_INVALID"),
        ("PUT", f"{E}/999999", {"name": "x"}, 404, "EXPERIMENT_NOT_FOUND"),
        ("GET", f"{E}/999999/results", None, 404, "EXPERIMENT_NOT_FOUND"),
        ("GET", f"{E}/{2**62 + 1}", None, 422, "VALIDATION_ERROR"),
        ("GET", f"{E}?cursor=abc", None, 400, "CURSOR_INVALID"),
        ("POST", f"{E}/{eid}/keep-winner", {"arm_id": 999_999}, 422, "EXPERIMENT_ARM_NOT_FOUND"),
        ("POST", f"{E}/{eid}/keep-winner", {"arm_id": "1"}, 422, "VALIDATION_ERROR"),
        ("POST", f"{E}/{eid}/keep-winner", {}, 422, "VALIDATION_ERROR"),
        ("DELETE", f"{E}/999999", None, 404, "EXPERIMENT_NOT_FOUND"),
    ]
    for method, path, b, status, code in cases:
        r = await client.request(method, path, json=b, headers=boss)
        assert r.status_code == status and r.json()["error"]["code"] == code, (method, path, r.text)
    assert (await client.get(f"{E}/{eid}/results", headers=boss)).json()["verdict"] == "insufficient_sample"
