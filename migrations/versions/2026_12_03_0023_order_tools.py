"""Merchant order tools: searchable consignee columns, 商家备注, and the record of price/address changes

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-03
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

import fissionmall.core.db

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_BATCH = 1000


def upgrade() -> None:
    with op.batch_alter_table("orders") as batch:
        batch.add_column(sa.Column("consignee_name", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("consignee_phone", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("merchant_remark", sa.String(length=500), nullable=True))
        batch.create_index("ix_orders_consignee_phone", ["consignee_phone"], unique=False)
        batch.create_index("ix_orders_consignee_name", ["consignee_name"], unique=False)
        batch.create_index("ix_orders_created", ["created_at", "id"], unique=False)
    _backfill()
    op.create_table(
        "order_changes",
        sa.Column("id", _ID, nullable=False),
        sa.Column("order_id", _ID, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("admin_id", _ID, nullable=True),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("old_fen", _ID, nullable=True),
        sa.Column("new_fen", _ID, nullable=True),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.Column("created_at", fissionmall.core.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"], name=op.f("fk_order_changes_order_id_orders")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_changes")),
    )
    with op.batch_alter_table("order_changes") as batch:
        batch.create_index("ix_order_changes_order", ["order_id", "id"], unique=False)


def _consignee(address: Any) -> tuple[str | None, str | None]:
    if isinstance(address, str):
        address = json.loads(address)
    if not isinstance(address, dict):
        return None, None
    name = str(address.get("name") or "")[:64] or None
    phone = address.get("phone_normalized") or re.sub(r"[^0-9]", "", str(address.get("phone") or ""))
    return name, (str(phone)[:32] or None)


def _backfill() -> None:
    """Existing orders get the columns from their address copy, a batch of ids at a time (no table lock
    held for the whole run on PostgreSQL, no million-row result in memory)."""
    conn = op.get_bind()
    orders = sa.table("orders", sa.column("id", _ID), sa.column("address", sa.JSON()))
    target = sa.table(
        "orders", sa.column("id", _ID), sa.column("consignee_name", sa.String()), sa.column("consignee_phone")
    )
    last = 0
    while True:
        rows = conn.execute(
            sa.select(orders.c.id, orders.c.address)
            .where(orders.c.id > last, orders.c.address.is_not(None))
            .order_by(orders.c.id)
            .limit(_BATCH)
        ).all()
        if not rows:
            return
        for order_id, address in rows:
            name, phone = _consignee(address)
            if name or phone:
                conn.execute(
                    sa.update(target)
                    .where(target.c.id == order_id)
                    .values(consignee_name=name, consignee_phone=phone)
                )
        last = rows[-1][0]


def downgrade() -> None:
    with op.batch_alter_table("order_changes") as batch:
        batch.drop_index("ix_order_changes_order")
    op.drop_table("order_changes")
    with op.batch_alter_table("orders") as batch:
        batch.drop_index("ix_orders_created")
        batch.drop_index("ix_orders_consignee_name")
        batch.drop_index("ix_orders_consignee_phone")
        batch.drop_column("merchant_remark")
        batch.drop_column("consignee_phone")
        batch.drop_column("consignee_name")
