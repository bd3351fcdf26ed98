"""Migration 0023 fills the searchable consignee columns of the orders placed before it, from their address."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa

from fissionmall.core.migrate import upgrade
from tests.conftest import BACKEND

pytestmark = pytest.mark.skipif(BACKEND != "sqlite", reason="reads the file database with a sync engine")


def _filler(col: sa.Column[Any]) -> Any:
    t = col.type
    if isinstance(t, sa.Integer):
        return 1
    if isinstance(t, sa.Boolean):
        return False
    if isinstance(t, sa.DateTime):
        return datetime(2026, 12, 1, tzinfo=UTC).replace(tzinfo=None)
    if isinstance(t, sa.JSON):
        return {}
    return "x"


def _row(table: sa.Table, **values: Any) -> dict[str, Any]:
    out = {c.name: _filler(c) for c in table.columns if not c.nullable and c.server_default is None}
    return {**out, **values}


def test_orders_placed_before_the_migration_are_searchable_after_it(tmp_path):
    path = tmp_path / "old.db"
    upgrade(f"sqlite+aiosqlite:///{path}", "0017")
    engine = sa.create_engine(f"sqlite:///{path}")
    meta = sa.MetaData()
    meta.reflect(engine)
    orders = meta.tables["orders"]
    addresses = [
        {"name": "张三", "phone": "138 0013 8000", "phone_normalized": "13800138000", "region": "上海", "detail": "1"},
        {"name": "李四", "phone": "(020)81167888", "region": "广州", "detail": "2"},  # older copy: no normalised phone
        None,
    ]
    with engine.begin() as conn:
        conn.execute(sa.insert(meta.tables["customers"]), [_row(meta.tables["customers"], id=1)])
        for i, a in enumerate(addresses, start=1):
            conn.execute(sa.insert(orders), [_row(orders, id=i, no=f"N{i}", customer_id=1, address=a)])
    upgrade(f"sqlite+aiosqlite:///{path}", "0023")
    with engine.connect() as conn:
        got = conn.execute(sa.text("SELECT id, consignee_name, consignee_phone FROM orders ORDER BY id")).all()
    engine.dispose()
    assert [tuple(r) for r in got] == [(1, "张三", "13800138000"), (2, "李四", "02081167888"), (3, None, None)]
