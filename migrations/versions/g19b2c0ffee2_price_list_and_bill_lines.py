"""price list: items with prices, and the lines a bill is made of

Revision ID: g19b2c0ffee2
Revises: g19a1c0ffee1
Create Date: 2026-12-07 16:00:00

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'g19b2c0ffee2'
down_revision = 'g19a1c0ffee1'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'price_items',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=80), nullable=False),
        sa.Column('price', sa.BigInteger(), nullable=False),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('uses', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_price_items')),
        sa.UniqueConstraint('name', name=op.f('uq_price_items_name')),
    )
    op.create_table(
        'bill_lines',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('bill_id', sa.Integer(), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('item_id', sa.Integer(), nullable=True),
        sa.Column('name', sa.String(length=80), nullable=False),
        sa.Column('unit_price', sa.BigInteger(), nullable=False),
        sa.Column('quantity', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['bill_id'], ['bills.id'], name=op.f('fk_bill_lines_bill_id_bills')),
        sa.ForeignKeyConstraint(['item_id'], ['price_items.id'], name=op.f('fk_bill_lines_item_id_price_items')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_bill_lines')),
    )
    op.create_index(op.f('ix_bill_lines_bill_id'), 'bill_lines', ['bill_id'])


def downgrade():
    op.drop_table('bill_lines')
    op.drop_table('price_items')
