"""bills: index on (status, last_checked_at) for the list's "checked since" line

Revision ID: f7778a1b0013
Revises: d1010f2a0010
Create Date: 2026-12-04 19:15:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'f7778a1b0013'
down_revision = 'd1010f2a0010'
branch_labels = None
depends_on = None


def upgrade():
    # Plain CREATE INDEX (no batch mode): on SQLite a batch rebuild of bills would drop the
    # triggers that keep bill_day_totals and the search index in step.
    op.create_index('ix_bills_status_last_checked_at', 'bills', ['status', 'last_checked_at'])


def downgrade():
    op.drop_index('ix_bills_status_last_checked_at', table_name='bills')
