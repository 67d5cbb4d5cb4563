"""bills: payer_returned_at (the payer's first return from iHela asks iHela at once)

Revision ID: d15a0c1b0014
Revises: f7778a1b0013
Create Date: 2026-12-05 10:00:00

"""
from alembic import op
import sqlalchemy as sa

import dashboard.db


# revision identifiers, used by Alembic.
revision = 'd15a0c1b0014'
down_revision = 'f7778a1b0013'
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD COLUMN (no batch mode): on SQLite a batch rebuild of bills would drop the
    # triggers that keep bill_day_totals and the search index in step.
    op.add_column('bills', sa.Column('payer_returned_at', dashboard.db.UTCDateTime(timezone=True), nullable=True))


def downgrade():
    op.drop_column('bills', 'payer_returned_at')  # plain, for the same reason
