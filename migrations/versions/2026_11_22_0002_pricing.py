"""pricing: coupons and promotions

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 01:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import fissionmall.core.db

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('coupon_templates',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('description', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('amount_fen', sa.Integer(), nullable=False),
    sa.Column('percent_bp', sa.Integer(), nullable=False),
    sa.Column('max_discount_fen', sa.Integer(), nullable=True),
    sa.Column('threshold_fen', sa.Integer(), nullable=False),
    sa.Column('scope_kind', sa.String(length=16), nullable=False),
    sa.Column('scope_ids', sa.JSON(), nullable=False),
    sa.Column('scope_exclude', sa.Boolean(), nullable=False),
    sa.Column('valid_from', fissionmall.core.db.UTCDateTime(), nullable=True),
    sa.Column('valid_until', fissionmall.core.db.UTCDateTime(), nullable=True),
    sa.Column('valid_days', sa.Integer(), nullable=True),
    sa.Column('claim_from', fissionmall.core.db.UTCDateTime(), nullable=True),
    sa.Column('claim_until', fissionmall.core.db.UTCDateTime(), nullable=True),
    sa.Column('total', sa.Integer(), nullable=True),
    sa.Column('issued', sa.Integer(), nullable=False),
    sa.Column('used', sa.Integer(), nullable=False),
    sa.Column('per_user_limit', sa.Integer(), nullable=False),
    sa.Column('issue_mode', sa.String(length=16), nullable=False),
    sa.Column('once_per_order', sa.Boolean(), nullable=False),
    sa.Column('return_on_refund', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', fissionmall.core.db.UTCDateTime(), nullable=False),
    sa.Column('updated_at', fissionmall.core.db.UTCDateTime(), nullable=False),
    sa.CheckConstraint('issued >= 0 AND used >= 0', name=op.f('ck_coupon_templates_counts_not_negative')),
    sa.CheckConstraint('total IS NULL OR issued <= total', name=op.f('ck_coupon_templates_issued_within_total')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_coupon_templates'))
    )
    op.create_table('promotion_gift_reservations',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('promotion_id', sa.Integer(), nullable=False),
    sa.Column('qty', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_promotion_gift_reservations'))
    )
    op.create_index(op.f('ix_promotion_gift_reservations_order_id'), 'promotion_gift_reservations', ['order_id'], unique=False)
    op.create_table('promotion_uses',
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('promotion_id', sa.Integer(), nullable=False),
    sa.Column('discount_fen', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('order_id', 'promotion_id', name=op.f('pk_promotion_uses'))
    )
    op.create_table('promotions',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('starts_at', fissionmall.core.db.UTCDateTime(), nullable=False),
    sa.Column('ends_at', fissionmall.core.db.UTCDateTime(), nullable=False),
    sa.Column('scope_kind', sa.String(length=16), nullable=False),
    sa.Column('scope_ids', sa.JSON(), nullable=False),
    sa.Column('scope_exclude', sa.Boolean(), nullable=False),
    sa.Column('basis', sa.String(length=8), nullable=False),
    sa.Column('tiers', sa.JSON(), nullable=False),
    sa.Column('items', sa.JSON(), nullable=False),
    sa.Column('sku_id', sa.Integer(), nullable=True),
    sa.Column('threshold', sa.Integer(), nullable=False),
    sa.Column('gift_sku_id', sa.Integer(), nullable=True),
    sa.Column('gift_qty', sa.Integer(), nullable=False),
    sa.Column('gift_stock', sa.Integer(), nullable=True),
    sa.Column('gift_given', sa.Integer(), nullable=False),
    sa.Column('used_orders', sa.Integer(), nullable=False),
    sa.Column('discount_fen', sa.Integer(), nullable=False),
    sa.Column('created_at', fissionmall.core.db.UTCDateTime(), nullable=False),
    sa.Column('updated_at', fissionmall.core.db.UTCDateTime(), nullable=False),
    sa.CheckConstraint('gift_given >= 0 AND (gift_stock IS NULL OR gift_given <= gift_stock)', name=op.f('ck_promotions_gift_stock')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_promotions'))
    )
    op.create_index('ix_promotions_live', 'promotions', ['status', 'starts_at', 'ends_at'], unique=False)
    op.create_table('coupon_claim_counts',
    sa.Column('template_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('customer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_coupon_claim_counts_customer_id_customers')),
    sa.ForeignKeyConstraint(['template_id'], ['coupon_templates.id'], name=op.f('fk_coupon_claim_counts_template_id_coupon_templates')),
    sa.PrimaryKeyConstraint('template_id', 'customer_id', name=op.f('pk_coupon_claim_counts'))
    )
    op.create_table('coupons',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('template_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('customer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('grant_key', sa.String(length=120), nullable=True),
    sa.Column('valid_from', fissionmall.core.db.UTCDateTime(), nullable=False),
    sa.Column('valid_until', fissionmall.core.db.UTCDateTime(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=True),
    sa.Column('claimed_at', fissionmall.core.db.UTCDateTime(), nullable=False),
    sa.Column('locked_at', fissionmall.core.db.UTCDateTime(), nullable=True),
    sa.Column('used_at', fissionmall.core.db.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_coupons_customer_id_customers')),
    sa.ForeignKeyConstraint(['template_id'], ['coupon_templates.id'], name=op.f('fk_coupons_template_id_coupon_templates')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_coupons')),
    sa.UniqueConstraint('grant_key', name=op.f('uq_coupons_grant_key'))
    )
    op.create_index('ix_coupons_customer', 'coupons', ['customer_id', 'status', 'valid_until'], unique=False)
    op.create_index(op.f('ix_coupons_order_id'), 'coupons', ['order_id'], unique=False)
    op.create_index(op.f('ix_coupons_template_id'), 'coupons', ['template_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_coupons_template_id'), table_name='coupons')
    op.drop_index(op.f('ix_coupons_order_id'), table_name='coupons')
    op.drop_index('ix_coupons_customer', table_name='coupons')
    op.drop_table('coupons')
    op.drop_table('coupon_claim_counts')
    op.drop_index('ix_promotions_live', table_name='promotions')
    op.drop_table('promotions')
    op.drop_table('promotion_uses')
    op.drop_index(op.f('ix_promotion_gift_reservations_order_id'), table_name='promotion_gift_reservations')
    op.drop_table('promotion_gift_reservations')
    op.drop_table('coupon_templates')
