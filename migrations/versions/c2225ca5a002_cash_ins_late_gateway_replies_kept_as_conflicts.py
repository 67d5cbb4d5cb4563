"""cash-ins: late gateway replies kept beside the resolution, as conflicts for a person

Revision ID: c2225ca5a002
Revises: 848e48cbd88b
Create Date: 2026-12-04 18:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

import dashboard.db


# revision identifiers, used by Alembic.
revision = 'c2225ca5a002'
down_revision = 'b1115ba1a001'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('cashins', schema=None) as batch_op:
        batch_op.add_column(sa.Column('late_outcome', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('late_reference', sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column('late_message', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('late_reply', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('late_at', dashboard.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('late_checked_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('late_checked_at', dashboard.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('late_check_note', sa.Text(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f('fk_cashins_late_checked_by_id_users'), 'users', ['late_checked_by_id'], ['id']
        )
        batch_op.create_index('ix_cashins_late_outcome', ['late_outcome'], unique=False)


def downgrade():
    with op.batch_alter_table('cashins', schema=None) as batch_op:
        batch_op.drop_index('ix_cashins_late_outcome')
        batch_op.drop_constraint(batch_op.f('fk_cashins_late_checked_by_id_users'), type_='foreignkey')
        batch_op.drop_column('late_check_note')
        batch_op.drop_column('late_checked_at')
        batch_op.drop_column('late_checked_by_id')
        batch_op.drop_column('late_at')
        batch_op.drop_column('late_reply')
        batch_op.drop_column('late_message')
        batch_op.drop_column('late_reference')
        batch_op.drop_column('late_outcome')
