"""counter: customer displays paired to a cashier's counter; the payer's name on bills

Revision ID: c9990c0a0009
Revises: c2225ca5a002
Create Date: 2026-12-04 18:30:00.000000

"""
from alembic import op
import sqlalchemy as sa

import dashboard.db


# revision identifiers, used by Alembic.
revision = 'c9990c0a0009'
down_revision = 'e1111e7a0011'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'counter_displays',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('session_key', sa.String(length=64), nullable=False),
        sa.Column('pairing_code', sa.String(length=12), nullable=False),
        sa.Column('display_token', sa.String(length=64), nullable=False),
        sa.Column('login_nonce', sa.String(length=32), nullable=False),
        sa.Column('bill_id', sa.Integer(), nullable=True),
        sa.Column('created_at', dashboard.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('touched_at', dashboard.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('ended_at', dashboard.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['bill_id'], ['bills.id'], name=op.f('fk_counter_displays_bill_id_bills')),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_counter_displays_user_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_counter_displays')),
        sa.UniqueConstraint('display_token', name=op.f('uq_counter_displays_display_token')),
        sa.UniqueConstraint('pairing_code', name=op.f('uq_counter_displays_pairing_code')),
        sa.UniqueConstraint('session_key', name=op.f('uq_counter_displays_session_key')),
    )
    with op.batch_alter_table('counter_displays', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_counter_displays_user_id'), ['user_id'], unique=False)
    with op.batch_alter_table('bills', schema=None) as batch_op:
        batch_op.add_column(sa.Column('payer_name', sa.String(length=160), nullable=True))


def downgrade():
    with op.batch_alter_table('bills', schema=None) as batch_op:
        batch_op.drop_column('payer_name')
    with op.batch_alter_table('counter_displays', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_counter_displays_user_id'))
    op.drop_table('counter_displays')
