"""groupbuy

Revision ID: 0004
Revises: 0001
Create Date: 2026-11-22 00:42:48.190473
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


import fissionmall.core.db

revision: str = '0004'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('groupbuy_activities',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('title', sa.String(length=120), nullable=False),
    sa.Column('product_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('skus', sa.JSON(), nullable=False),
    sa.Column('group_size', sa.Integer(), nullable=False),
    sa.Column('duration_minutes', sa.Integer(), nullable=False),
    sa.Column('pay_minutes', sa.Integer(), nullable=False),
    sa.Column('new_user_required', sa.Boolean(), nullable=False),
    sa.Column('leader_discount_fen', sa.Integer(), nullable=False),
    sa.Column('leader_points', sa.Integer(), nullable=False),
    sa.Column('leader_coupon_template_id', sa.Integer(), nullable=True),
    sa.Column('max_open_per_user', sa.Integer(), nullable=False),
    sa.Column('per_user_limit', sa.Integer(), nullable=False),
    sa.Column('per_order_limit', sa.Integer(), nullable=False),
    sa.Column('stock', sa.Integer(), nullable=False),
    sa.Column('stock_left', sa.Integer(), nullable=False),
    sa.Column('auto_fill', sa.Boolean(), nullable=False),
    sa.Column('starts_at', fissionmall.core.db.UTCDateTime(), nullable=False),
    sa.Column('ends_at', fissionmall.core.db.UTCDateTime(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', fissionmall.core.db.UTCDateTime(), nullable=False),
    sa.Column('updated_at', fissionmall.core.db.UTCDateTime(), nullable=False),
    sa.CheckConstraint('group_size >= 2', name=op.f('ck_groupbuy_activities_size_at_least_two')),
    sa.CheckConstraint('stock_left >= 0', name=op.f('ck_groupbuy_activities_stock_left_not_negative')),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'], name=op.f('fk_groupbuy_activities_product_id_products')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_groupbuy_activities'))
    )

    with op.batch_alter_table('groupbuy_activities', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_groupbuy_activities_product_id'), ['product_id'], unique=False)

    op.create_table('groupbuy_groups',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('activity_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('leader_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('seats_taken', sa.Integer(), nullable=False),
    sa.Column('paid_count', sa.Integer(), nullable=False),
    sa.Column('new_users', sa.Integer(), nullable=False),
    sa.Column('virtual_count', sa.Integer(), nullable=False),
    sa.Column('new_user_required', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('expires_at', fissionmall.core.db.UTCDateTime(), nullable=True),
    sa.Column('created_at', fissionmall.core.db.UTCDateTime(), nullable=False),
    sa.Column('formed_at', fissionmall.core.db.UTCDateTime(), nullable=True),
    sa.Column('succeeded_at', fissionmall.core.db.UTCDateTime(), nullable=True),
    sa.Column('failed_at', fissionmall.core.db.UTCDateTime(), nullable=True),
    sa.CheckConstraint('paid_count <= size', name=op.f('ck_groupbuy_groups_paid_within_size')),
    sa.CheckConstraint('seats_taken <= size', name=op.f('ck_groupbuy_groups_seats_within_size')),
    sa.CheckConstraint('seats_taken >= 0', name=op.f('ck_groupbuy_groups_seats_not_negative')),
    sa.ForeignKeyConstraint(['activity_id'], ['groupbuy_activities.id'], name=op.f('fk_groupbuy_groups_activity_id_groupbuy_activities')),
    sa.ForeignKeyConstraint(['leader_id'], ['customers.id'], name=op.f('fk_groupbuy_groups_leader_id_customers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_groupbuy_groups'))
    )

    with op.batch_alter_table('groupbuy_groups', schema=None) as batch_op:
        batch_op.create_index('ix_groupbuy_groups_activity', ['activity_id', 'status', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_groupbuy_groups_leader_id'), ['leader_id'], unique=False)

    op.create_table('groupbuy_quotas',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('activity_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('customer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('open_now', sa.Integer(), nullable=False),
    sa.Column('units', sa.Integer(), nullable=False),
    sa.CheckConstraint('open_now >= 0', name=op.f('ck_groupbuy_quotas_open_not_negative')),
    sa.CheckConstraint('units >= 0', name=op.f('ck_groupbuy_quotas_units_not_negative')),
    sa.ForeignKeyConstraint(['activity_id'], ['groupbuy_activities.id'], name=op.f('fk_groupbuy_quotas_activity_id_groupbuy_activities')),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_groupbuy_quotas_customer_id_customers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_groupbuy_quotas')),
    sa.UniqueConstraint('activity_id', 'customer_id', name=op.f('uq_groupbuy_quotas_activity_id_customer_id'))
    )

    op.create_table('groupbuy_members',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('group_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('activity_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('customer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('holder', sa.Integer(), nullable=True),
    sa.Column('order_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('role', sa.String(length=8), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('sku_id', sa.Integer(), nullable=True),
    sa.Column('qty', sa.Integer(), nullable=False),
    sa.Column('is_new_user', sa.Boolean(), nullable=False),
    sa.Column('refunded_fen', sa.Integer(), nullable=False),
    sa.Column('created_at', fissionmall.core.db.UTCDateTime(), nullable=False),
    sa.Column('paid_at', fissionmall.core.db.UTCDateTime(), nullable=True),
    sa.Column('released_at', fissionmall.core.db.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['activity_id'], ['groupbuy_activities.id'], name=op.f('fk_groupbuy_members_activity_id_groupbuy_activities')),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_groupbuy_members_customer_id_customers')),
    sa.ForeignKeyConstraint(['group_id'], ['groupbuy_groups.id'], name=op.f('fk_groupbuy_members_group_id_groupbuy_groups')),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_groupbuy_members_order_id_orders')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_groupbuy_members')),
    sa.UniqueConstraint('group_id', 'holder', name=op.f('uq_groupbuy_members_group_id_holder')),
    sa.UniqueConstraint('order_id', name=op.f('uq_groupbuy_members_order_id'))
    )

    with op.batch_alter_table('groupbuy_members', schema=None) as batch_op:
        batch_op.create_index('ix_groupbuy_members_customer', ['customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_groupbuy_members_group_id'), ['group_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('groupbuy_members', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_groupbuy_members_group_id'))
        batch_op.drop_index('ix_groupbuy_members_customer')

    op.drop_table('groupbuy_members')

    op.drop_table('groupbuy_quotas')

    with op.batch_alter_table('groupbuy_groups', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_groupbuy_groups_leader_id'))
        batch_op.drop_index('ix_groupbuy_groups_activity')

    op.drop_table('groupbuy_groups')

    with op.batch_alter_table('groupbuy_activities', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_groupbuy_activities_product_id'))

    op.drop_table('groupbuy_activities')
