"""revocable console sessions and login lockout

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import fissionmall.core.db

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "admin_sessions",
        sa.Column("id", sa.String(length=43), nullable=False),
        sa.Column("admin_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("created_at", fissionmall.core.db.UTCDateTime(), nullable=False),
        sa.Column("expires_at", fissionmall.core.db.UTCDateTime(), nullable=False),
        sa.Column("revoked_at", fissionmall.core.db.UTCDateTime(), nullable=True),
        sa.Column("ip", sa.String(length=45), nullable=True),
        sa.ForeignKeyConstraint(
            ["admin_id"],
            ["admin_users.id"],
            name=op.f("fk_admin_sessions_admin_id_admin_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_admin_sessions")),
    )
    op.create_index(op.f("ix_admin_sessions_admin_id"), "admin_sessions", ["admin_id"], unique=False)
    with op.batch_alter_table("admin_users") as batch:
        batch.add_column(sa.Column("login_failures", sa.Integer(), server_default="0", nullable=False))
        batch.add_column(sa.Column("login_window_at", fissionmall.core.db.UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("locked_until", fissionmall.core.db.UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("lockouts", sa.Integer(), server_default="0", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("admin_users") as batch:
        batch.drop_column("lockouts")
        batch.drop_column("locked_until")
        batch.drop_column("login_window_at")
        batch.drop_column("login_failures")
    op.drop_index(op.f("ix_admin_sessions_admin_id"), table_name="admin_sessions")
    op.drop_table("admin_sessions")
