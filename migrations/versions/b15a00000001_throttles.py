"""throttles: one row per throttled key, counted by compare-and-swap (dashboard/throttle.py)

Revision ID: b15a00000001
Revises: c15a0b2e0014
Create Date: 2026-12-05 10:00:00

"""

from alembic import op
import sqlalchemy as sa

import dashboard.db


# revision identifiers, used by Alembic.
revision = "b15a00000001"
down_revision = "c15a0b2e0014"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "throttles",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("tries", sa.Integer(), nullable=False),
        sa.Column("last_at", dashboard.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_throttles")),
    )


def downgrade():
    op.drop_table("throttles")
