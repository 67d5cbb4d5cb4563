"""gateway breaker: fail fast while iHela is unreachable, one row shared by all workers

Revision ID: a16b0c1d0016
Revises: b15b00000002
Create Date: 2026-12-06 10:00:00

"""
from alembic import op
import sqlalchemy as sa

import dashboard.db


# revision identifiers, used by Alembic.
revision = 'a16b0c1d0016'
down_revision = 'b15b00000002'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'gateway_breaker',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('failures', sa.Integer(), nullable=False),
        sa.Column('down_since', dashboard.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('open_until', dashboard.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_gateway_breaker')),
    )


def downgrade():
    op.drop_table('gateway_breaker')
