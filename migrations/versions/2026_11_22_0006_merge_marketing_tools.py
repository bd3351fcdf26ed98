"""merge marketing tools

Revision ID: 0006
Revises: 0002, 0003, 0004, 0005
Create Date: 2026-11-22 01:30:49.408013
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


import fissionmall.core.db

revision: str = '0006'
down_revision: str | None = ('0002', '0003', '0004', '0005')
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
