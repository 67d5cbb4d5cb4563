"""bills: failure_code (why the dashboard failed a bill, rendered in the reader's language)

Revision ID: b1115ba1a001
Revises: 848e48cbd88b
Create Date: 2026-12-04 18:05:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b1115ba1a001'
down_revision = '848e48cbd88b'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('bills', schema=None) as batch_op:
        batch_op.add_column(sa.Column('failure_code', sa.String(length=40), nullable=True))


def downgrade():
    with op.batch_alter_table('bills', schema=None) as batch_op:
        batch_op.drop_column('failure_code')
