"""WeChat identity: unionid, sealed session key and phone (with a lookup hash), a withdrawal's sealed real name

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("customers") as batch:
        batch.add_column(sa.Column("unionid", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("session_key_enc", sa.String(length=255), nullable=True))
        batch.add_column(sa.Column("phone_enc", sa.String(length=255), nullable=True))
        batch.add_column(sa.Column("phone_hash", sa.String(length=64), nullable=True))
        batch.create_index(batch.f("ix_customers_unionid"), ["unionid"], unique=False)
        batch.create_index(batch.f("ix_customers_phone_hash"), ["phone_hash"], unique=False)
    with op.batch_alter_table("distribution_withdrawals") as batch:
        batch.add_column(sa.Column("real_name_enc", sa.String(length=255), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("distribution_withdrawals") as batch:
        batch.drop_column("real_name_enc")
    with op.batch_alter_table("customers") as batch:
        batch.drop_index(batch.f("ix_customers_phone_hash"))
        batch.drop_index(batch.f("ix_customers_unionid"))
        batch.drop_column("phone_hash")
        batch.drop_column("phone_enc")
        batch.drop_column("session_key_enc")
        batch.drop_column("unionid")
