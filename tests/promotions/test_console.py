"""Console pages for promotions: create, edit, pause."""

from __future__ import annotations

from sqlalchemy import select

from fissionmall.promotions.models import Promotion
from tests.console_helpers import console


async def test_promotions_are_created_and_paused_from_the_console(client, db):
    csrf = await console(client, db, "owner")
    r = await client.post(
        "/admin/promotions/new",
        data={
            "csrf_token": csrf,
            "kind": "full_reduction",
            "name": "满减",
            "starts_at": "2026-01-01T00:00",
            "ends_at": "2030-01-01T00:00",
            "scope": "all",
            "basis": "amount",
            "rules": "100=20, 300=50",
        },
    )
    assert r.status_code == 303, r.text
    async with db.read() as s:
        p = await s.scalar(select(Promotion))
        assert p is not None and p.tiers == [
            {"threshold": 10_000, "amount_fen": 2000, "percent_bp": 0},
            {"threshold": 30_000, "amount_fen": 5000, "percent_bp": 0},
        ]
    page = (await client.get("/admin/promotions")).text
    assert "满100减20 / 满300减50" in page
    r = await client.post(f"/admin/promotions/{p.id}/status", data={"csrf_token": csrf, "status": "paused"})
    assert r.status_code == 303
    assert "已暂停" in (await client.get(f"/admin/promotions/{p.id}?ok=paused")).text
    r = await client.post(
        "/admin/promotions/new",
        data={
            "csrf_token": csrf,
            "kind": "full_reduction",
            "name": "坏",
            "starts_at": "2026-01-01T00:00",
            "ends_at": "2030-01-01T00:00",
            "rules": "100=20, 100=30",
        },
    )
    assert r.status_code == 422 and "保存失败" in r.text
